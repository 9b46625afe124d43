// Must NOT compile in a consumer app: internals are not part of the package's exports map.
import { MqttService } from 'nestjs-mqtt/dist/mqtt.service';

export const internal = MqttService;
