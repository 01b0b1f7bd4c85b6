package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"magiclinks/awsenv"
)

// In Lambda the AWS settings are read at start, where a wrong one is an init
// error naming it (awsenv: microseconds; files only when AWS_CA_BUNDLE,
// AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE name one), and each
// client is made on first use, once, safely under concurrency: a fresh
// instance's first event is often a DefineAuthChallenge or
// CreateAuthChallenge, which need no AWS call and should not wait for one.

// lambdaAWS reads the AWS settings of the environment.
func lambdaAWS(getenv func(string) string) (aws.Config, error) {
	cfg, err := awsenv.Load(getenv, os.ReadFile, awsenv.Options{
		// Cognito waits at most 5 s for a trigger: retries and each
		// attempt fit well inside that.
		MaxAttempts: 2,
		Timeout:     1500 * time.Millisecond,
	})
	if err != nil {
		return aws.Config{}, err
	}
	return cfg, awsenv.CheckServiceEndpoints(getenv, cip.ServiceID, sesv2.ServiceID, dynamodb.ServiceID)
}

// lazy returns a function that makes a client from the configuration the
// first time it is called and the same client every time after.
func lazy[T any](cfg aws.Config, make func(aws.Config) T) func() T {
	return sync.OnceValue(func() T { return make(cfg) })
}

// The wrappers below hold each client's operations as functions whose types
// name only the operations' inputs, options and outputs, never the SDK
// client. That is what keeps the artifact small: the wrappers live in
// interfaces, and text/template calls methods by name through reflection, so
// the linker keeps every exported method of every type reachable from a value
// in an interface. A wrapper holding a *cognitoidentityprovider.Client, even
// inside a func type or as a type argument, kept all of its hundred-odd
// operations, and DynamoDB's and SES's, in the binary (7.7 of its 22.5 MB);
// build_test.go checks that they stay out.

// op is the signature of an SDK operation.
type op[I, O, Opt any] = func(context.Context, *I, ...func(*Opt)) (*O, error)

// cognitoOps are the user pool's admin operations this function calls.
type cognitoOps struct {
	getUser       op[cip.AdminGetUserInput, cip.AdminGetUserOutput, cip.Options]
	createUser    op[cip.AdminCreateUserInput, cip.AdminCreateUserOutput, cip.Options]
	setPassword   op[cip.AdminSetUserPasswordInput, cip.AdminSetUserPasswordOutput, cip.Options]
	setAttributes op[cip.AdminUpdateUserAttributesInput, cip.AdminUpdateUserAttributesOutput, cip.Options]
}

func newCognitoOps(cfg aws.Config) cognitoOps {
	c := cip.NewFromConfig(cfg)
	return cognitoOps{c.AdminGetUser, c.AdminCreateUser, c.AdminSetUserPassword, c.AdminUpdateUserAttributes}
}

// lazyCognito is the user pool's admin API, made on first call.
type lazyCognito struct{ get func() cognitoOps }

func (l lazyCognito) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, o ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	return l.get().getUser(ctx, in, o...)
}

func (l lazyCognito) AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, o ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	return l.get().createUser(ctx, in, o...)
}

func (l lazyCognito) AdminSetUserPassword(ctx context.Context, in *cip.AdminSetUserPasswordInput, o ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error) {
	return l.get().setPassword(ctx, in, o...)
}

func (l lazyCognito) AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, o ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	return l.get().setAttributes(ctx, in, o...)
}

// lazySES is SES v2's SendEmail, made on first call.
type lazySES struct {
	send func() op[sesv2.SendEmailInput, sesv2.SendEmailOutput, sesv2.Options]
}

func newSendEmail(cfg aws.Config) op[sesv2.SendEmailInput, sesv2.SendEmailOutput, sesv2.Options] {
	return sesv2.NewFromConfig(cfg).SendEmail
}

func (l lazySES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, o ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return l.send()(ctx, in, o...)
}

// dynamoOps are the links table's operations.
type dynamoOps struct {
	getItem    op[dynamodb.GetItemInput, dynamodb.GetItemOutput, dynamodb.Options]
	putItem    op[dynamodb.PutItemInput, dynamodb.PutItemOutput, dynamodb.Options]
	updateItem op[dynamodb.UpdateItemInput, dynamodb.UpdateItemOutput, dynamodb.Options]
}

func newDynamoOps(cfg aws.Config) dynamoOps {
	c := dynamodb.NewFromConfig(cfg)
	return dynamoOps{c.GetItem, c.PutItem, c.UpdateItem}
}

// lazyDynamo is the links table's API, made on first call.
type lazyDynamo struct{ get func() dynamoOps }

func (l lazyDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return l.get().getItem(ctx, in, o...)
}

func (l lazyDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return l.get().putItem(ctx, in, o...)
}

func (l lazyDynamo) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return l.get().updateItem(ctx, in, o...)
}

// lambdaClients are the clients of the Lambda function, none made yet.
func lambdaClients(cfg aws.Config, withTable bool) clients {
	c := clients{
		cognito: lazyCognito{lazy(cfg, newCognitoOps)},
		ses:     lazySES{lazy(cfg, newSendEmail)},
		// /config.json tells the region to the page.
		region: cfg.Region,
	}
	if withTable {
		c.dynamo = lazyDynamo{lazy(cfg, newDynamoOps)}
	}
	return c
}
