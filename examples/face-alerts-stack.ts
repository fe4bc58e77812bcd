import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { FaceStreamPipeline } from '../lib';

/**
 * Example: two cameras searching one face collection. Deploy it with `npx cdk deploy`, enrol faces
 * in the collection, send video to each camera's video stream, and read the face search records
 * from each camera's data stream.
 */
export class FaceAlertsStack extends Stack {
  public readonly pipeline: FaceStreamPipeline;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.pipeline = new FaceStreamPipeline(this, 'Faces', {
      cameras: [{ name: 'front-door' }],
      faceMatchThreshold: 90,
    });
    this.pipeline.addCamera('lobby');

    new CfnOutput(this, 'CollectionId', { value: this.pipeline.collection.collectionId });
    for (const camera of this.pipeline.cameras) {
      new CfnOutput(this, `${camera.cameraName}-VideoStream`, { value: camera.videoStream.streamName });
      new CfnOutput(this, `${camera.cameraName}-StreamProcessor`, { value: camera.streamProcessor.streamProcessorName });
    }
  }
}
