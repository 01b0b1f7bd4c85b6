// Command trivial is the yardstick of make coldstart: the smallest
// aws-lambda-go function there is, echoing its event, built with the same
// flags as the product's bootstrap. The product's cold start is quoted as a
// ratio to this one's, measured side by side in the same run.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
		return event, nil
	})
}
