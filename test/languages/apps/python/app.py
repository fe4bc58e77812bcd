"""The same app as ../typescript/app.ts, in Python: the README's Python Quick start (inserted by
test/languages/python-app.test.ts where marked, verbatim) in a stack, plus a frame-sampling camera.

`python app.py` synthesizes into $CDK_OUTDIR, then prints, as JSON, the message of each bad prop of
errorMessages() in ../typescript/app.ts.
"""
import json

from aws_cdk import App, Duration, Stack, aws_events_targets as targets, aws_sqs as sqs
from constructs import Construct
from cdk_face_stream_pipeline import CameraConfig, FaceSearchEngine, FaceStreamPipeline

STACK_NAME = "QuickStart"


class QuickStart(Stack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        # README-QUICK-START

        sightings = sqs.Queue(self, "Sightings", enforce_ssl=True)
        faces.add_camera(
            "yard",
            engine=FaceSearchEngine.frame_sampling(
                sampling_interval=Duration.millis(500),
                min_face_confidence=95,
                max_faces_per_frame=3,
            ),
            video_retention=Duration.hours(2),
        )
        faces.on_face_match(
            "YardVisitors",
            cameras=["yard"],
            min_similarity=95,
            target=targets.SqsQueue(sightings),
        )


def error_messages() -> list:
    cases = [
        lambda stack: FaceStreamPipeline(stack, "Faces", cameras=[CameraConfig(name="front-door", face_match_threshold=101)]),
        lambda stack: FaceStreamPipeline(stack, "Faces").add_camera(
            "yard", engine=FaceSearchEngine.frame_sampling(sampling_interval=Duration.millis(100))
        ),
    ]
    messages = []
    for bad in cases:
        try:
            bad(Stack(App(), "Bad"))
            messages.append("no error")
        except Exception as e:  # jsii raises the library's Error as a RuntimeError
            messages.append(str(e))
    return messages


if __name__ == "__main__":
    app = App()
    QuickStart(app, STACK_NAME)
    app.synth()
    print(json.dumps(error_messages()))
