/**
 * The camera of a record: the data stream's entry in CAMERAS, else the rest of the stream's name
 * after DATA_STREAM_PREFIX (streams the pipeline names `<prefix><camera>`), else none (the parser
 * then uses the video stream's name).
 */
import { config } from './config';

const known = new Map<string, string | undefined>();

/** The stream name of a Kinesis data stream ARN (`arn:<partition>:kinesis:<region>:<account>:stream/<name>`). */
export function dataStreamName(arn: string): string | undefined {
  const at = arn.indexOf(':stream/');
  return at < 0 ? undefined : arn.slice(at + ':stream/'.length);
}

export function cameraOf(eventSourceArn: string | undefined): string | undefined {
  if (!eventSourceArn) {
    return undefined;
  }
  if (known.has(eventSourceArn)) {
    return known.get(eventSourceArn);
  }
  let camera: string | undefined = config.cameras[eventSourceArn];
  if (camera === undefined && config.dataStreamPrefix !== '') {
    const name = dataStreamName(eventSourceArn);
    if (name !== undefined && name.length > config.dataStreamPrefix.length && name.startsWith(config.dataStreamPrefix)) {
      camera = name.slice(config.dataStreamPrefix.length);
    }
  }
  known.set(eventSourceArn, camera);
  return camera;
}
