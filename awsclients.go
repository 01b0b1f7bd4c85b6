package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// In Lambda the AWS configuration and each client are made on first use,
// once, safely under concurrency: a fresh instance's first event is often a
// DefineAuthChallenge or CreateAuthChallenge, which need no AWS call, and
// should not wait for the SDK's configuration to be read.

// lazy returns a function that makes a client from the configuration the
// first time it is called and the same client (or error) every time after.
func lazy[T any](cfg func() (aws.Config, error), make func(aws.Config) T) func() (T, error) {
	return sync.OnceValues(func() (T, error) {
		c, err := cfg()
		if err != nil {
			var zero T
			return zero, err
		}
		return make(c), nil
	})
}

// lazyAWS holds the configuration, read once on first need.
func lazyAWS() func() (aws.Config, error) {
	return sync.OnceValues(func() (aws.Config, error) {
		c, err := awsconfig.LoadDefaultConfig(context.Background(), awsOptions...)
		if err != nil {
			return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
		}
		return c, nil
	})
}

// lazyCognito is the user pool's admin API, made on first call.
type lazyCognito struct{ get func() (*cip.Client, error) }

func (l lazyCognito) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, o ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.AdminGetUser(ctx, in, o...)
}

func (l lazyCognito) AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, o ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.AdminCreateUser(ctx, in, o...)
}

func (l lazyCognito) AdminSetUserPassword(ctx context.Context, in *cip.AdminSetUserPasswordInput, o ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.AdminSetUserPassword(ctx, in, o...)
}

func (l lazyCognito) AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, o ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.AdminUpdateUserAttributes(ctx, in, o...)
}

// lazySES is SES v2's SendEmail, made on first call.
type lazySES struct{ get func() (*sesv2.Client, error) }

func (l lazySES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, o ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.SendEmail(ctx, in, o...)
}

// lazyDynamo is the links table's API, made on first call.
type lazyDynamo struct {
	get func() (*dynamodb.Client, error)
}

func (l lazyDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.GetItem(ctx, in, o...)
}

func (l lazyDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.PutItem(ctx, in, o...)
}

func (l lazyDynamo) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.UpdateItem(ctx, in, o...)
}

// lambdaClients are the clients of the Lambda function, none made yet.
func lambdaClients(getenv func(string) string, withTable bool) clients {
	cfg := lazyAWS()
	c := clients{
		cognito: lazyCognito{lazy(cfg, func(a aws.Config) *cip.Client { return cip.NewFromConfig(a) })},
		ses:     lazySES{lazy(cfg, func(a aws.Config) *sesv2.Client { return sesv2.NewFromConfig(a) })},
		// Lambda always sets AWS_REGION; /config.json tells it to the page.
		region: getenv("AWS_REGION"),
	}
	if withTable {
		c.dynamo = lazyDynamo{lazy(cfg, func(a aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(a) })}
	}
	return c
}
