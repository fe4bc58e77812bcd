// The same app as ../../../../../typescript/app.ts, in Java: the README's Java Quick start (put where
// marked by test/languages/java-app.languages.ts, its imports where README-IMPORTS is) in a stack,
// plus a frame-sampling camera. Run, it synthesizes into $CDK_OUTDIR, then prints, as JSON, the
// message of each bad prop of errorMessages() in the TypeScript app.
package quickstart;

import io.github.facestreampipeline.cdk.CameraConfig;
import io.github.facestreampipeline.cdk.CameraOptions;
import io.github.facestreampipeline.cdk.FaceMatchRuleOptions;
import io.github.facestreampipeline.cdk.FaceSearchEngine;
import io.github.facestreampipeline.cdk.FaceStreamPipeline;
import io.github.facestreampipeline.cdk.FrameSamplingOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.events.targets.SqsQueue;
import software.amazon.awscdk.services.sqs.Queue;
import software.constructs.Construct;
// README-IMPORTS

public final class QuickStartApp {
    static final String STACK_NAME = "QuickStart";

    static final class QuickStart extends Stack {
        QuickStart(final Construct scope, final String id) {
            super(scope, id);
            // README-QUICK-START

            Queue sightings = Queue.Builder.create(this, "Sightings").enforceSsl(true).build();
            faces.addCamera("yard", CameraOptions.builder()
                    .engine(FaceSearchEngine.frameSampling(FrameSamplingOptions.builder()
                            .samplingInterval(Duration.millis(500))
                            .minFaceConfidence(95)
                            .maxFacesPerFrame(3)
                            .build()))
                    .videoRetention(Duration.hours(2))
                    .build());
            faces.onFaceMatch("YardVisitors", FaceMatchRuleOptions.builder()
                    .cameras(List.of("yard"))
                    .minSimilarity(95)
                    .target(new SqsQueue(sightings))
                    .build());
        }
    }

    static List<String> errorMessages() {
        List<Consumer<Stack>> cases = List.of(
                stack -> FaceStreamPipeline.Builder.create(stack, "Faces")
                        .cameras(List.of(CameraConfig.builder().name("front-door").faceMatchThreshold(101).build()))
                        .build(),
                stack -> new FaceStreamPipeline(stack, "Faces").addCamera("yard", CameraOptions.builder()
                        .engine(FaceSearchEngine.frameSampling(FrameSamplingOptions.builder().samplingInterval(Duration.millis(100)).build()))
                        .build()));
        List<String> messages = new ArrayList<>();
        for (Consumer<Stack> bad : cases) {
            try {
                bad.accept(new Stack(new App(), "Bad"));
                messages.add("no error");
            } catch (RuntimeException e) { // the jsii runtime throws the library's Error as a JsiiError
                messages.add(e.getMessage());
            }
        }
        return messages;
    }

    static String json(final List<String> strings) {
        StringBuilder out = new StringBuilder("[");
        for (String s : strings) {
            if (out.length() > 1) out.append(',');
            out.append('"');
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') out.append('\\').append(c);
                else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                else out.append(c);
            }
            out.append('"');
        }
        return out.append(']').toString();
    }

    public static void main(final String[] args) {
        App app = new App();
        new QuickStart(app, STACK_NAME);
        app.synth();
        System.out.println(json(errorMessages()));
    }
}
