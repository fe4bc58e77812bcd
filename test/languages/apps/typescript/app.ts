/**
 * The reference app every language's app is compared with: the README's TypeScript Quick start
 * (inserted by test/languages/support.ts where marked) in a stack, plus a frame-sampling camera.
 * The Python, Java and Go apps beside this folder are the same app; when the public API changes,
 * change all of them the same way (the tests compare their templates with this one's).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
// README-IMPORTS
import { FaceSearchEngine } from 'cdk-face-stream-pipeline';

export const STACK_NAME = 'QuickStart';

class QuickStart extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // README-QUICK-START

    const sightings = new sqs.Queue(this, 'Sightings', { enforceSSL: true });
    faces.addCamera('yard', {
      engine: FaceSearchEngine.frameSampling({
        samplingInterval: Duration.millis(500),
        minFaceConfidence: 95,
        maxFacesPerFrame: 3,
      }),
      videoRetention: Duration.hours(2),
    });
    faces.onFaceMatch('YardVisitors', {
      cameras: ['yard'],
      minSimilarity: 95,
      target: new SqsQueue(sightings),
    });
  }
}

/** Synthesizes the app into `outdir`. */
export function synth(outdir: string): void {
  const app = new App({ outdir });
  new QuickStart(app, STACK_NAME);
  app.synth();
}

/** The messages of the bad props each language's app must fail with in the same words. */
export function errorMessages(): string[] {
  const cases: Array<(stack: Stack) => void> = [
    (stack) => new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door', faceMatchThreshold: 101 }] }),
    (stack) => new FaceStreamPipeline(stack, 'Faces').addCamera('yard', { engine: FaceSearchEngine.frameSampling({ samplingInterval: Duration.millis(100) }) }),
  ];
  return cases.map((bad) => {
    try {
      bad(new Stack(new App(), 'Bad'));
      return 'no error';
    } catch (e) {
      return (e as Error).message;
    }
  });
}
