import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleDestroy,
} from '@nestjs/common';
import { MQTT_CONFIG, MQTT_CONTEXT_TYPE, MqttService, type MqttConfig } from 'nestjs-mqtt';
import { Subject, tap, type Observable, type Subscription } from 'rxjs';

/** `MqttService.status()` of the contract. */
export interface MqttStatusView {
  name: string;
  state: string;
  broker: string;
  connectedSince?: string | number | Date;
  reconnectAttempts: number;
  lastError?: string;
  lastMessageAt?: string | number | Date;
  sessionPresent?: boolean;
}

/** One handler of `MqttService.stats()` of the contract. */
export interface MqttHandlerStatsView {
  name: string;
  filters: readonly string[];
  handled: number;
  failed: number;
  timedOut?: number;
  running?: number;
  queued?: number;
}

/** `MqttService.stats()` of the contract. */
export interface MqttStatsView {
  received?: number;
  published?: number;
  dropped?: number;
  handlers: MqttHandlerStatsView[];
}

interface WithMonitoring {
  status?: () => MqttStatusView;
  stats?: () => MqttStatsView;
}

/**
 * What the dashboard shows of the MQTT connection: `MqttService.status()` and `stats()` where the
 * module has them. TEMPORARY adapter, until the module's status()/stats() are on main: it derives
 * the same figures from `state$`, `events$` and a global interceptor that counts each handler's
 * outcomes (the interceptor puts every handler on Nest's context-creator path).
 */
@Injectable()
export class MqttMonitor implements OnModuleDestroy {
  private readonly counts = new Map<string, MqttHandlerStatsView>();
  private readonly counted = new Subject<void>();
  private readonly subscription: Subscription;
  private connectedSince?: Date;
  private reconnectAttempts = 0;
  private lastError?: string;
  private lastMessageAt?: Date;
  private sessionPresent?: boolean;

  constructor(
    private readonly mqtt: MqttService,
    @Inject(MQTT_CONFIG) private readonly config: MqttConfig,
  ) {
    this.subscription = mqtt.events$.subscribe((event) => {
      if (event.type === 'connect') {
        this.connectedSince = new Date();
        this.sessionPresent = event.sessionPresent;
        this.reconnectAttempts = 0;
      } else if (event.type === 'reconnect') {
        this.reconnectAttempts = event.attempt;
      } else if (event.type === 'error') {
        this.lastError = event.error.message;
      }
    });
  }

  /** Emits when a count changed (the module's own counts change with `events$`). */
  get changes$(): Observable<void> {
    return this.counted.asObservable();
  }

  /** @internal */
  onModuleDestroy(): void {
    this.subscription.unsubscribe();
    this.counted.complete();
  }

  /** The connection: the module's `status()`, or the same figures derived here. */
  status(): MqttStatusView {
    const own = (this.mqtt as unknown as WithMonitoring).status;
    if (typeof own === 'function') return own.call(this.mqtt);
    const { protocol, host, port } = this.config;
    return {
      name: 'default',
      state: this.mqtt.state,
      broker: `${protocol}://${host}:${port}`,
      connectedSince: this.mqtt.state === 'connected' ? this.connectedSince : undefined,
      reconnectAttempts: this.reconnectAttempts,
      lastError: this.lastError,
      lastMessageAt: this.lastMessageAt,
      sessionPresent: this.sessionPresent,
    };
  }

  /**
   * Handled / failed counts per handler: the module's `stats()`, or the interceptor's counts
   * over `handlers` (name and filters of every handler, from the AsyncAPI document).
   */
  stats(handlers: ReadonlyArray<{ name: string; filters: readonly string[] }>): MqttStatsView {
    const own = (this.mqtt as unknown as WithMonitoring).stats;
    if (typeof own === 'function') return own.call(this.mqtt);
    return {
      handlers: handlers.map(({ name, filters }) => ({
        ...(this.counts.get(name) ?? { handled: 0, failed: 0 }),
        name,
        filters,
      })),
    };
  }

  /** @internal Counts one handler call's outcome (from {@link HandlerOutcomeInterceptor}). */
  count(handler: string, outcome: 'handled' | 'failed'): void {
    const entry = this.counts.get(handler) ?? { name: handler, filters: [], handled: 0, failed: 0 };
    entry[outcome]++;
    this.counts.set(handler, entry);
    this.lastMessageAt = new Date();
    this.counted.next();
  }
}

/** TEMPORARY (see {@link MqttMonitor}): counts the outcome of every MQTT handler call. */
@Injectable()
export class HandlerOutcomeInterceptor implements NestInterceptor {
  constructor(private readonly monitor: MqttMonitor) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<string>() !== MQTT_CONTEXT_TYPE) return next.handle();
    const name = `${context.getClass().name}.${context.getHandler().name}`;
    return next.handle().pipe(
      tap({
        complete: () => this.monitor.count(name, 'handled'),
        error: () => this.monitor.count(name, 'failed'),
      }),
    );
  }
}
