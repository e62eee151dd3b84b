export { sensorFile, type SensorFileOptions } from './sensorFile.js';
export { sensorReadable, type SensorReadableOptions } from './sensorReadable.js';
export { sensorTcpServer, type SensorTcpServerOptions } from './sensorTcpServer.js';
export { mqttSource, type MqttSourceOptions, type MqttStatus } from './mqttSource.js';
export { mqttSink, toJsonPayload, type MqttSinkOptions } from './mqttSink.js';
export type { SensorEvent, SensorLineOptions, SensorMappingOptions, MissingPolicy, OrderPolicy } from './internal/sensorOptions.js';
