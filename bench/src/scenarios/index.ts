/** Every scenario of a run, by its BENCH_ONLY name, in the order a run takes them. */
import type { Scenario } from '../config';
import type { BenchContext } from '../context';
import { devices } from './devices';
import { dto } from './dto';
import { instructions } from './instructions';
import { latency } from './latency';
import { matcher } from './matcher';
import { memory } from './memory';
import { publish } from './publish';
import { receive } from './receive';
import { scale } from './scale';
import { startup } from './startup';

export const SCENARIO_RUNNERS: Record<Scenario, (ctx: BenchContext) => Promise<void>> = {
  receive,
  scale,
  devices,
  dto,
  publish,
  latency,
  memory,
  startup,
  matcher,
  instructions,
};
