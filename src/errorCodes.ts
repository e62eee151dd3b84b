/**
 * The catalogue of every stable error code seqstream raises: what it means and what raises it.
 * Every `SeqstreamError` (and its subclasses) carries one of these in `code`; match on the code,
 * never on the message. `test/errorCodes.test.ts` checks that every `SEQ_*` code written in
 * `src/` is listed here and that every code listed here is still used in `src/`.
 *
 * How to add a code:
 * 1. Pick `SEQ_<AREA>_<WHAT>`, reusing an area prefix below (`SEQ_INPUT_`, `SEQ_WS_`, `SEQ_MQTT_`,
 *    ...) or starting a new one for a new room; reuse an existing code when the meaning is the
 *    same (a wrong-length vector is `SEQ_INPUT_SHAPE` wherever it is caught).
 * 2. Add one entry in its area's group, in alphabetical order: `meaning` says what went wrong in
 *    one sentence, from the user's side; `raisedBy` names the public API(s) that raise it.
 * 3. Throw it as `new SeqstreamError('SEQ_…', message, details)` (or `InvalidInputError` for bad
 *    input, `ModelFormatError` for a file or document that does not load) and assert the code in
 *    the test of the file that raises it.
 * A code is never renamed or reused for another meaning once it has landed on `main`.
 *
 * @example
 * ```ts
 * import { errorCodes, SeqstreamError, validateInput } from 'seqstream';
 * try { validateInput([1, 2], 3); } catch (e) {
 *   if (e instanceof SeqstreamError) console.warn(e.code, errorCodes[e.code as keyof typeof errorCodes]?.meaning);
 * }
 * ```
 */
export const errorCodes = {
  // Bad event input, wherever a vector reaches a model.
  SEQ_INPUT_NON_FINITE: { meaning: 'An input vector holds NaN or ±Infinity.', raisedBy: 'validateInput, recurrent, recurrentByKey, recurrentByKeyBatch, trainOnline, standardize, websocketServer' },
  SEQ_INPUT_SHAPE: { meaning: 'An input vector (or a sequence, or an output buffer) has the wrong length.', raisedBy: 'validateInput, runSequence, Embedding.lookup, recurrent, recurrentByKey, recurrentByKeyBatch, trainOnline, standardize, websocketServer' },
  SEQ_INPUT_TYPE: { meaning: 'An input is not what the API takes: not a numeric vector, a non-number element, or a non-string text.', raisedBy: 'validateInput, recurrent, recurrentByKey, recurrentByKeyBatch, trainOnline, standardize, websocketServer, CharTokenizer/WordTokenizer.encode' },

  // Options and environment.
  SEQ_BACKEND_UNAVAILABLE: { meaning: 'The requested TensorFlow.js backend (argument or SEQSTREAM_BACKEND) cannot load on this machine.', raisedBy: 'initBackend' },
  SEQ_DEPENDENCY_MISSING: { meaning: 'An optional peer dependency (mqtt, meyda, wavefile) needed by this adapter is not installed.', raisedBy: 'mqttSource, mqttSink, audioFeatures, audioFromWav, connectJetStreamEngine, PartitionedPublisher' },
  SEQ_ENGINE_FAILED: { meaning: 'The native step engine (onnxruntime-node) loaded but could not build or run the model\'s step graph.', raisedBy: 'createOnnxStepper, createFusedStepper, recurrentByKey (engine native or auto)' },
  SEQ_ENGINE_UNAVAILABLE: { meaning: 'The native step engine was asked for (engine: \'native\' or SEQSTREAM_ENGINE=native) but onnxruntime-node is not installed or fails to load.', raisedBy: 'requireOnnxStepper, createFusedStepper' },
  SEQ_INVALID_OPTION: { meaning: 'An option passed when creating a model, operator or adapter is invalid; thrown synchronously at creation.', raisedBy: 'every constructor and operator factory (InvalidOptionError)' },
  SEQ_TFJS_NOT_LOADED: { meaning: 'A TensorFlow.js path (engine \'tfjs\', seqstream/tensors) ran before TensorFlow.js was loaded: await initBackend() or loadTfjs() first.', raisedBy: "runSequence, recurrent, trainOnline, createTbpttEngine with engine 'tfjs'; currentBackend" },
  SEQ_USAGE: { meaning: 'The command line is malformed: unknown flag, bad value or missing argument (exit code 2).', raisedBy: 'seqstream CLI (UsageError)' },

  // Models, weights and documents that do not load.
  SEQ_CHECKPOINT_FORMAT: { meaning: 'A training checkpoint is not JSON, not a seqstream training checkpoint, or names parameters the model lacks.', raisedBy: 'loadCheckpoint, trainingCheckpointFromJSON' },
  SEQ_FIXTURE_FORMAT: { meaning: 'A PyTorch parity fixture is malformed (missing fields, ragged arrays, unknown loss).', raisedBy: 'seqstream verify' },
  SEQ_MODEL_FORMAT: { meaning: 'A model document or file is not a seqstream model of a supported version, or cannot be read.', raisedBy: 'RecurrentModel.fromJSON, loadStateDict, Embedding.fromJSON, seqstream CLI --model' },
  SEQ_ONNX_FORMAT: { meaning: 'The bytes are not a readable ONNX model (truncated, not protobuf, no graph, external weight data, or no LSTM/GRU/RNN node).', raisedBy: 'loadOnnx, seqstream verify (onnx fixtures)' },
  SEQ_ONNX_UNSUPPORTED: { meaning: 'An ONNX graph has a node seqstream cannot map to its cells or head (named in the message and details.node): another op, a reverse or bidirectional layer, clipping, peepholes, sequence_lens, GRU linear_before_reset=0.', raisedBy: 'loadOnnx' },
  SEQ_OPTIMIZER_FORMAT: { meaning: 'Optimizer JSON is not a seqstream optimizer, lacks its state, or names an unknown type.', raisedBy: 'optimizerFromJSON' },
  SEQ_PARAM_MISSING: { meaning: 'A state dict or parameter set lacks a parameter the model needs.', raisedBy: 'RecurrentModel.fromParameters, loadStateDict, Embedding.fromStateDict' },
  SEQ_PARAM_SHAPE: { meaning: 'A parameter has the wrong shape or is not a rectangular numeric array.', raisedBy: 'RecurrentModel.fromParameters, loadStateDict, Embedding' },
  SEQ_PARAM_UNKNOWN: { meaning: 'A state dict holds a parameter the model does not have (e.g. bidirectional weights, a second head).', raisedBy: 'RecurrentModel.fromParameters, loadStateDict' },
  SEQ_PARAM_VALUE: { meaning: 'A parameter holds a non-finite or non-numeric value.', raisedBy: 'RecurrentModel.fromParameters, Embedding' },
  SEQ_SAFETENSORS: { meaning: 'Bytes are not valid safetensors (header, dtype or offsets).', raisedBy: 'parseSafetensors, loadStateDict' },
  SEQ_STATE_FORMAT: { meaning: 'A state snapshot or keyed checkpoint does not fit the model (cell, layers, hidden size) or is malformed.', raisedBy: 'restoreState, KeyedRecurrentControl.restore, recurrentByKey checkpoint restore, StandardizeControl.restore' },

  // Text.
  SEQ_EMBEDDING_INDEX: { meaning: 'An embedding index is not an integer in [0, numEmbeddings).', raisedBy: 'Embedding.lookup' },
  SEQ_TOKEN_RANGE: { meaning: 'A token id is outside the vocabulary.', raisedBy: 'Vocabulary.token, CharTokenizer/WordTokenizer.decode' },
  SEQ_TOKENIZER_FORMAT: { meaning: 'Tokenizer JSON is not a seqstream tokenizer of the expected kind.', raisedBy: 'CharTokenizer.fromJSON, WordTokenizer.fromJSON' },

  // Training targets.
  SEQ_TARGET_NON_FINITE: { meaning: 'A training target holds NaN or ±Infinity.', raisedBy: 'trainOnline, train' },
  SEQ_TARGET_RANGE: { meaning: 'A class index is outside [0, outputSize), or a binary cross-entropy target outside [0, 1].', raisedBy: 'trainOnline, train' },
  SEQ_TARGET_SHAPE: { meaning: 'A training target vector has the wrong length.', raisedBy: 'trainOnline, train' },
  SEQ_TARGET_TYPE: { meaning: 'A training target is not a numeric vector (or class index for cross-entropy).', raisedBy: 'trainOnline' },
  SEQ_TRAIN_CSV: { meaning: 'A CSV file of training sequences does not parse, lacks its sequence, label or feature column, has a non-numeric feature, or a classified sequence with no label or two.', raisedBy: 'seqstream train' },
  SEQ_TRAIN_EMPTY: { meaning: 'Offline training got no sequences, a sequence without steps, or a sequence without any target of positive weight.', raisedBy: 'train, seqstream train' },
  SEQ_TRAIN_LABELS: { meaning: 'A training label file or NDJSON sequence line is missing, not JSON, or names a label outside --labels.', raisedBy: 'seqstream train' },

  // Stream controls.
  SEQ_CONTROL_DETACHED: { meaning: 'A StandardizeControl was used with no live standardize() subscription.', raisedBy: 'StandardizeControl' },
  SEQ_CONTROL_IN_USE: { meaning: 'A control object is already bound to another live subscription; use one control per subscription.', raisedBy: 'recurrent (RecurrentControl), standardize (StandardizeControl)' },
  SEQ_CONTROL_UNBOUND: { meaning: 'A RecurrentControl was used with no running subscription.', raisedBy: 'RecurrentControl' },
  SEQ_STANDARDIZE_TOO_MANY_KEYS: { meaning: 'An event brings a new key beyond standardize() option maxKeys.', raisedBy: 'standardize' },

  // Scaling out (src/cluster: ClusterWorker, the JetStream binding, seqstream worker/publish).
  SEQ_CLUSTER_CHECKPOINT: { meaning: 'A partition checkpoint in the store is unreadable or its body is missing.', raisedBy: 'decodeCheckpoint, JetStreamCheckpointStore.claim, seqstream worker' },
  SEQ_CLUSTER_CLAIM: { meaning: 'The checkpoint of a partition could not be claimed after many tries (the store kept changing or was unreachable).', raisedBy: 'JetStreamCheckpointStore.claim' },
  SEQ_CLUSTER_FENCED: { meaning: 'Another worker wrote first: a lease or checkpoint was taken over, so this worker stops writing that partition.', raisedBy: 'KvLeaseTable, JetStreamCheckpointStore.commit, PartitionOwnership' },
  SEQ_CLUSTER_MALFORMED: { meaning: 'A partition event is not UTF-8 JSON, not an object, or has no usable key; it goes to the dead-letter subject and the partition goes on.', raisedBy: 'seqstream worker (dead letters), PartitionedPublisher, seqstream publish' },
  SEQ_CLUSTER_OVERSIZE: { meaning: 'An event is over maxEventBytes; refused by the publisher, dead-lettered (truncated) by the worker.', raisedBy: 'PartitionedPublisher, seqstream worker, seqstream publish' },
  SEQ_CLUSTER_PARTITIONS: { meaning: 'A topology exists with another partition count; the count is fixed at creation (re-partition by replay into a new name).', raisedBy: 'connectJetStreamEngine, seqstream worker, seqstream publish' },
  SEQ_CLUSTER_PUBLISH: { meaning: 'Publishing an event failed on every retry.', raisedBy: 'PartitionedPublisher, seqstream publish' },
  SEQ_CLUSTER_REFUSED: { meaning: "The server refused a worker's output or dead-letter publish (stream full with discard new, no stream for the subject, no stream leader); reported once per reason, and after maxPublishRefusals refusals of one message the partition is given up without a checkpoint and replayed by its next owner.", raisedBy: 'JetStreamPublishWindow, JetStreamPartitionLog, seqstream worker (status lines)' },
  SEQ_CLUSTER_STOPPED: { meaning: 'A partition stopped (lost or released) while one of its outputs was still being published, or its lease was given up while its checkpoint was being claimed; the next owner carries on.', raisedBy: 'PartitionRunner, JetStreamPublishWindow, ClusterWorker (internal)' },

  // Anomaly detection (detectAnomalies).
  SEQ_DETECT_BAD_TIMESTAMP: { meaning: 'A reading has a timestamp that is not a finite number (ms); skipped, its key goes on.', raisedBy: 'detectAnomalies' },
  SEQ_DETECT_BAD_VALUE: { meaning: 'A reading has no finite value (NaN, missing, non-numeric); skipped, its key goes on.', raisedBy: 'detectAnomalies' },
  SEQ_DETECT_CONTROL_IN_USE: { meaning: 'A DetectorControl is already bound to a running detectAnomalies subscription.', raisedBy: 'detectAnomalies' },
  SEQ_DETECT_INITIAL_STATE: { meaning: 'The initialState callback threw or returned a state that does not load; that reading is skipped.', raisedBy: 'detectAnomalies' },
  SEQ_DETECT_MISSING_KEY: { meaning: 'A reading is not an object with a key.', raisedBy: 'detectAnomalies' },
  SEQ_DETECT_NOT_RUNNING: { meaning: 'A DetectorControl was used with no running detectAnomalies subscription.', raisedBy: 'DetectorControl' },
  SEQ_DETECT_NO_STORE: { meaning: 'A checkpoint was requested from detectAnomalies without a checkpoint.store.', raisedBy: 'DetectorControl.checkpoint' },
  SEQ_DETECT_WORKER_FAILED: { meaning: 'A detector thread of detectAnomaliesParallel failed, exited or did not answer (or the runtime has no worker threads); the stream ends with this error.', raisedBy: 'detectAnomaliesParallel' },

  // Keyed state (recurrentByKey).
  SEQ_KEYED_CHECKPOINT: { meaning: 'Taking a keyed checkpoint failed.', raisedBy: 'recurrentByKey checkpointing (interval or KeyedRecurrentControl.checkpoint)' },
  SEQ_KEYED_CONTROL_IN_USE: { meaning: 'A KeyedRecurrentControl is already bound to a running recurrentByKey subscription.', raisedBy: 'recurrentByKey' },
  SEQ_KEYED_FULL: { meaning: 'Every one of maxKeys rows has queued events, so no row can be evicted for a new key.', raisedBy: 'recurrentByKey, recurrentByKeyBatch' },
  SEQ_KEYED_INITIAL_STATE: { meaning: "The initialState(key) callback threw or returned a state that does not fit; the event is rejected.", raisedBy: 'recurrentByKey, recurrentByKeyBatch' },
  SEQ_KEYED_MISSING_KEY: { meaning: "A keyed event has no 'key'.", raisedBy: 'recurrentByKey, recurrentByKeyBatch' },
  SEQ_KEYED_NO_STORE: { meaning: "A checkpoint was requested but recurrentByKey has no 'checkpoint.store'.", raisedBy: 'KeyedRecurrentControl.checkpoint' },
  SEQ_KEYED_NOT_RUNNING: { meaning: 'A KeyedRecurrentControl was used with no running recurrentByKey subscription (including after it completed).', raisedBy: 'KeyedRecurrentControl' },
  SEQ_KEYED_OFFSET: { meaning: "A keyed event's 'offset' (or a block's 'offsets') is not a finite number.", raisedBy: 'recurrentByKey, recurrentByKeyBatch' },
  SEQ_KEYED_UNKNOWN_KEY: { meaning: "An event's key is new and not one of the operator's 'knownKeys' (a closed key set); the event is rejected.", raisedBy: 'recurrentByKey, recurrentByKeyBatch' },

  // State stores and checkpoint files.
  SEQ_CHECKPOINT_READ: { meaning: 'A training checkpoint file cannot be read.', raisedBy: 'loadCheckpoint' },
  SEQ_CHECKPOINT_WRITE: { meaning: 'A training checkpoint file cannot be written.', raisedBy: 'saveCheckpoint' },
  SEQ_STORE_CORRUPT: { meaning: 'A stored keyed checkpoint file is torn or unreadable (load warns and falls back to an older one).', raisedBy: 'FileStateStore.load (onCorrupt, or a process warning), decodeCheckpoint' },
  SEQ_STORE_KEY: { meaning: 'A key FileStateStore cannot store (only strings and finite numbers).', raisedBy: 'FileStateStore.save' },
  SEQ_STORE_NO_INTACT: { meaning: 'Checkpoint files exist but every one is corrupt, so there is no state to resume from.', raisedBy: 'FileStateStore.load' },
  SEQ_STORE_PLATFORM: { meaning: 'FileStateStore needs a little-endian host.', raisedBy: 'FileStateStore.save' },
  SEQ_STORE_WRITE: { meaning: 'Saving a keyed checkpoint to its store failed.', raisedBy: 'FileStateStore.save, recurrentByKey checkpointing' },

  // Audio adapters.
  SEQ_AUDIO_BLOCK_SHAPE: { meaning: 'A sample block length is not a multiple of the channel count.', raisedBy: 'audioFeatures' },
  SEQ_AUDIO_BLOCK_TYPE: { meaning: 'A sample block is not a Float32Array, Float64Array or number[].', raisedBy: 'audioFeatures' },
  SEQ_AUDIO_EXTRACT: { meaning: 'Meyda failed to extract the requested features from a frame.', raisedBy: 'audioFeatures, audioFromWav, audioFromPcm' },
  SEQ_AUDIO_FEATURE_NON_FINITE: { meaning: 'An extracted feature is NaN or ±Infinity.', raisedBy: 'audioFeatures, audioFromWav, audioFromPcm' },
  SEQ_AUDIO_FEATURE_SHAPE: { meaning: 'A Meyda feature returned a value seqstream cannot flatten into a vector.', raisedBy: 'audioFeatures, audioFromWav, audioFromPcm' },
  SEQ_AUDIO_FILE_READ: { meaning: 'A WAV file cannot be read.', raisedBy: 'audioFromWav' },
  SEQ_AUDIO_FILE_TOO_LARGE: { meaning: 'A WAV file is larger than option maxFileBytes.', raisedBy: 'audioFromWav' },
  SEQ_AUDIO_NON_FINITE: { meaning: 'A given or decoded sample is NaN or ±Infinity.', raisedBy: 'audioFeatures, audioFromWav, audioFromPcm, wavSamples, AudioTagger, tagAudio, seqstream tag' },
  SEQ_AUDIO_PCM_CHUNK: { meaning: 'A raw PCM stream delivered strings instead of bytes.', raisedBy: 'audioFromPcm' },
  SEQ_AUDIO_PCM_TRUNCATED: { meaning: 'A raw PCM stream ended inside a sample frame.', raisedBy: 'audioFromPcm' },
  SEQ_AUDIO_RATE_MISMATCH: { meaning: "The audio sample rate differs from option sampleRate and rateMismatch is 'error'.", raisedBy: 'audioFromWav, audioFeatures' },
  SEQ_AUDIO_SOURCE: { meaning: 'A raw PCM stream failed, closed early, or was already destroyed.', raisedBy: 'audioFromPcm' },
  SEQ_AUDIO_WAV_FORMAT: { meaning: 'A WAV file uses an unsupported container, encoding or channel count.', raisedBy: 'audioFromWav' },
  SEQ_AUDIO_WAV_HEADER: { meaning: 'A WAV header is unreadable or inconsistent.', raisedBy: 'audioFromWav' },
  SEQ_AUDIO_WAV_TRUNCATED: { meaning: 'A WAV data chunk is shorter than its header says.', raisedBy: 'audioFromWav' },

  // Sensor line sources (file, readable, TCP) and their records.
  SEQ_SENSOR_BAD_KEY: { meaning: "A record key field is not a string or number, or an MQTT topic key has an empty, '.' or '..' level.", raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_BAD_TIMESTAMP: { meaning: 'A record timestamp field is not a finite number or a parsable date.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_CSV_COLUMNS: { meaning: 'A CSV line has a different number of fields than the header (or option columns).', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_CSV_HEADER: { meaning: 'A CSV header does not hold distinct, non-empty column names.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer' },
  SEQ_SENSOR_CSV_SYNTAX: { meaning: 'A CSV line does not parse.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_IO: { meaning: 'Reading a sensor file or stream failed or it closed before it ended.', raisedBy: 'sensorFile, sensorReadable' },
  SEQ_SENSOR_JSON: { meaning: 'A line or message is not valid JSON.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_LATE: { meaning: "An event's timestamp is older than one already emitted for its key (option order); it is dropped.", raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_LINE_TOO_LONG: { meaning: 'A line is longer than option maxLineLength; it is dropped and reading goes on.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer' },
  SEQ_SENSOR_MISSING_KEY: { meaning: 'A record lacks the configured key field, or an MQTT topic gives an empty key.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_MISSING_TIMESTAMP: { meaning: 'A record lacks the configured timestamp field.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_MISSING_VALUE: { meaning: 'A record lacks a value field and there is no previous value to hold.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_NOT_FINITE: { meaning: "A value field is a number too large for a double ('1e999' is Infinity).", raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_NOT_NUMERIC: { meaning: 'A value field or message is not a finite number.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_NOT_OBJECT: { meaning: 'A JSON line or message is not an object (or number/array for MQTT).', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_SENSOR_TOO_MANY_KEYS: { meaning: 'A record brings a new key beyond option maxKeys.', raisedBy: 'sensorFile, sensorReadable, sensorTcpServer, mqttSource' },
  SEQ_TCP_CONNECTION: { meaning: 'One TCP sensor connection failed; the others keep running.', raisedBy: 'sensorTcpServer' },
  SEQ_TCP_IDLE_TIMEOUT: { meaning: 'A TCP sensor connection was silent for idleTimeoutMs and was closed.', raisedBy: 'sensorTcpServer' },
  SEQ_TCP_LISTEN: { meaning: 'The TCP sensor server cannot listen on its host and port.', raisedBy: 'sensorTcpServer' },
  SEQ_TCP_TOO_MANY_CONNECTIONS: { meaning: 'A TCP connection beyond maxConnections was refused.', raisedBy: 'sensorTcpServer' },

  // MQTT.
  SEQ_MQTT_BACKLOG: { meaning: 'Option maxInFlight publishes are already pending; this value was not published.', raisedBy: 'mqttSink' },
  SEQ_MQTT_CONNECTION: { meaning: 'The broker cannot be reached right now; the client keeps retrying.', raisedBy: 'mqttSource, mqttSink' },
  SEQ_MQTT_GAVE_UP: { meaning: 'Option maxReconnectAttempts consecutive reconnects failed; the stream ends.', raisedBy: 'mqttSource, mqttSink' },
  SEQ_MQTT_OFFLINE: { meaning: 'The connection to the broker dropped (reported once per outage).', raisedBy: 'mqttSource, mqttSink' },
  SEQ_MQTT_PAYLOAD_TOO_LARGE: { meaning: 'A message is larger than option maxPayloadBytes; it is dropped.', raisedBy: 'mqttSource' },
  SEQ_MQTT_PUBLISH: { meaning: 'The broker refused or failed a publish.', raisedBy: 'mqttSink' },
  SEQ_MQTT_REFUSED: { meaning: 'The broker refused the connection (credentials, client id, protocol).', raisedBy: 'mqttSource, mqttSink' },
  SEQ_MQTT_SUBSCRIBE: { meaning: 'The broker refused a subscription.', raisedBy: 'mqttSource' },

  // Dashboard (seqstream/dashboard, seqstream serve).
  SEQ_DASHBOARD_BAD_MESSAGE: { meaning: 'A dashboard page sent a message that is not a JSON view request; it is ignored and counted.', raisedBy: 'DashboardServer, dashboard' },
  SEQ_DASHBOARD_CLOSED: { meaning: 'The dashboard was closed while it was starting to listen.', raisedBy: 'DashboardServer.listen' },
  SEQ_DASHBOARD_EVENT: { meaning: "An event given to the dashboard has no string or number 'key' (or one longer than maxKeyLength); it is counted, not shown.", raisedBy: 'dashboard, DashboardServer.push, DashboardStore.push' },
  SEQ_DASHBOARD_HOST: { meaning: 'A dashboard request names a Host not in allowedHosts (DNS rebinding guard; HTTP 403).', raisedBy: 'DashboardServer, dashboard' },
  SEQ_DASHBOARD_LISTEN: { meaning: 'The dashboard cannot listen on its host and port.', raisedBy: 'DashboardServer.listen, dashboard, seqstream serve' },
  SEQ_DASHBOARD_NOT_LISTENING: { meaning: 'The dashboard URL was asked for before it listened.', raisedBy: 'DashboardServer.url' },
  SEQ_DASHBOARD_ORIGIN: { meaning: 'A dashboard socket request comes from a foreign Origin (HTTP 403).', raisedBy: 'DashboardServer, dashboard' },
  SEQ_DASHBOARD_PATH: { meaning: 'A websocket upgrade asked for a path the dashboard does not serve (HTTP 404).', raisedBy: 'DashboardServer, dashboard' },
  SEQ_DASHBOARD_TOKEN: { meaning: 'A dashboard request lacks the token or carries a wrong one (HTTP 401).', raisedBy: 'DashboardServer, dashboard' },
  SEQ_DASHBOARD_TOO_MANY_CLIENTS: { meaning: 'A page beyond maxClients tried to connect (HTTP 503).', raisedBy: 'DashboardServer, dashboard' },

  // Websocket client and server.
  SEQ_WS_AUTH_TIMEOUT: { meaning: 'The authenticate callback took longer than authTimeoutMs (HTTP 503).', raisedBy: 'websocketServer' },
  SEQ_WS_BAD_JSON: { meaning: 'A websocket message is not valid JSON.', raisedBy: 'websocketServer, websocketClient' },
  SEQ_WS_BAD_MESSAGE: { meaning: 'A websocket message is JSON but not one of the accepted shapes.', raisedBy: 'websocketServer' },
  SEQ_WS_BAD_REQUEST: { meaning: 'An upgrade request URL does not parse (HTTP 400).', raisedBy: 'websocketServer' },
  SEQ_WS_BAD_SESSION: { meaning: 'A session id is shorter than minSessionIdLength (default 16), longer than 128, or not of [A-Za-z0-9._~-] (HTTP 400).', raisedBy: 'websocketServer' },
  SEQ_WS_BINARY: { meaning: 'A binary frame arrived on a text feed.', raisedBy: 'websocketServer, websocketClient' },
  SEQ_WS_BUSY: { meaning: 'A session already has maxQueuedTokens waiting to be stepped; the message is refused.', raisedBy: 'websocketByKey' },
  SEQ_WS_CALLBACK: { meaning: 'A user callback (onError, onStatus) threw: the client stream ends; on the server it is a process warning and sessions carry on.', raisedBy: 'websocketClient, websocketServer' },
  SEQ_WS_CLOSED: { meaning: 'The connection closed and reconnect is off.', raisedBy: 'websocketClient' },
  SEQ_WS_CLOSED_FINAL: { meaning: 'The server closed with a code that forbids reconnecting.', raisedBy: 'websocketClient' },
  SEQ_WS_CLOSING: { meaning: 'The server is shutting down and refuses new connections (HTTP 503).', raisedBy: 'websocketServer' },
  SEQ_WS_FD_LIMIT: { meaning: 'The open-file limit (ulimit -n, less 64) capped maxConnections; a process warning, not an error.', raisedBy: 'websocketServer' },
  SEQ_WS_HOST: { meaning: 'The Host header is missing or not in allowedHosts (HTTP 403).', raisedBy: 'websocketServer' },
  SEQ_WS_LISTEN: { meaning: 'The websocket server cannot listen on its host and port.', raisedBy: 'websocketServer' },
  SEQ_WS_NOT_FOUND: { meaning: 'An upgrade request for a path the server does not serve (HTTP 404).', raisedBy: 'websocketServer' },
  SEQ_WS_ORIGIN: { meaning: 'The Origin header is not allowed (HTTP 403).', raisedBy: 'websocketServer' },
  SEQ_WS_OUTGOING: { meaning: 'The outgoing message stream given to the client failed.', raisedBy: 'websocketClient' },
  SEQ_WS_RATE_LIMIT: { meaning: 'A client sent more than messagesPerSecond (with burst); the message is dropped.', raisedBy: 'websocketServer' },
  SEQ_WS_RECONNECT_EXHAUSTED: { meaning: 'Option reconnect.maxAttempts consecutive reconnects failed; the stream ends.', raisedBy: 'websocketClient' },
  SEQ_WS_REJECTED: { meaning: 'The server refused the websocket upgrade with an HTTP status.', raisedBy: 'websocketClient' },
  SEQ_WS_REPLY_UNSERIALIZABLE: { meaning: 'A reply for a session is not JSON-serialisable; the client gets an error reply instead.', raisedBy: 'websocketServer' },
  SEQ_WS_SESSION_FORBIDDEN: { meaning: 'A session id belongs to another identity (authenticate result or token) and cannot be resumed by this one (HTTP 403).', raisedBy: 'websocketServer' },
  SEQ_WS_TOO_MANY_CONNECTIONS: { meaning: 'A connection beyond maxConnections was refused (HTTP 503).', raisedBy: 'websocketServer' },
  SEQ_WS_TOO_MANY_TOKENS: { meaning: 'A text message encodes to more than maxTokensPerMessage model steps; none of it is stepped.', raisedBy: 'websocketByKey' },
  SEQ_WS_UNAUTHORIZED: { meaning: 'The token is missing or wrong, or authenticate refused or threw (HTTP 401).', raisedBy: 'websocketServer' },
  SEQ_WS_URL: { meaning: 'The url function given to the client threw.', raisedBy: 'websocketClient' },
} as const satisfies Record<`SEQ_${string}`, ErrorCodeInfo>;

/** What one catalogued error code means and which public APIs raise it. */
export interface ErrorCodeInfo {
  /** What went wrong, in one sentence, from the user's side. */
  readonly meaning: string;
  /** The public APIs (functions, classes, CLI commands) that raise it. */
  readonly raisedBy: string;
}

/**
 * Every stable error code, as a string literal union (`'SEQ_INPUT_SHAPE' | ...`).
 *
 * @example
 * ```ts
 * import type { ErrorCode } from 'seqstream';
 * const retryable: ErrorCode[] = ['SEQ_MQTT_CONNECTION', 'SEQ_MQTT_OFFLINE'];
 * ```
 */
export type ErrorCode = keyof typeof errorCodes;

/**
 * Whether `code` is a catalogued seqstream error code.
 *
 * @example
 * ```ts
 * import { isErrorCode } from 'seqstream';
 * isErrorCode('SEQ_INPUT_SHAPE'); // true
 * isErrorCode('ECONNRESET'); // false
 * ```
 */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(errorCodes, code);
}
