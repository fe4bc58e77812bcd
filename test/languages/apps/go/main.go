// The same app as ../typescript/app.ts, in Go: the README's Go Quick start (put where marked by
// test/languages/go-app.languages.ts, its imports in the import block) in a stack, plus a
// frame-sampling camera. Run, it synthesizes into $CDK_OUTDIR, then prints, as JSON, the message of
// each bad prop of errorMessages() in ../typescript/app.ts.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	// README-IMPORTS
)

const stackName = "QuickStart"

func newQuickStart(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, nil)
	// README-QUICK-START

	sightings := awssqs.NewQueue(stack, jsii.String("Sightings"), &awssqs.QueueProps{EnforceSSL: jsii.Bool(true)})
	pipeline.AddCamera(jsii.String("yard"), &faces.CameraOptions{
		Engine: faces.FaceSearchEngine_FrameSampling(&faces.FrameSamplingOptions{
			SamplingInterval:  awscdk.Duration_Millis(jsii.Number(500)),
			MinFaceConfidence: jsii.Number(95),
			MaxFacesPerFrame:  jsii.Number(3),
		}),
		VideoRetention: awscdk.Duration_Hours(jsii.Number(2)),
	})
	pipeline.OnFaceMatch(jsii.String("YardVisitors"), &faces.FaceMatchRuleOptions{
		Cameras:       jsii.Strings("yard"),
		MinSimilarity: jsii.Number(95),
		Target:        awseventstargets.NewSqsQueue(sightings, nil),
	})
	return stack
}

func errorMessages() []string {
	cases := []func(stack awscdk.Stack){
		func(stack awscdk.Stack) {
			faces.NewFaceStreamPipeline(stack, jsii.String("Faces"), &faces.FaceStreamPipelineProps{
				Cameras: &[]*faces.CameraConfig{{Name: jsii.String("front-door"), FaceMatchThreshold: jsii.Number(101)}},
			})
		},
		func(stack awscdk.Stack) {
			faces.NewFaceStreamPipeline(stack, jsii.String("Faces"), nil).AddCamera(jsii.String("yard"), &faces.CameraOptions{
				Engine: faces.FaceSearchEngine_FrameSampling(&faces.FrameSamplingOptions{SamplingInterval: awscdk.Duration_Millis(jsii.Number(100))}),
			})
		},
	}
	messages := []string{}
	for _, bad := range cases {
		messages = append(messages, func() (message string) {
			// the jsii runtime panics with the library's error
			defer func() {
				if r := recover(); r != nil {
					message = fmt.Sprint(r)
				}
			}()
			bad(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Bad"), nil))
			return "no error"
		}())
	}
	return messages
}

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	newQuickStart(app, stackName)
	app.Synth(nil)
	out, err := json.Marshal(errorMessages())
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
}
