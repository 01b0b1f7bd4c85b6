package links_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"magiclinks/links"
	"magiclinks/links/linkstest"
)

// fakePool keeps one attribute per user, as Cognito does, with no
// conditional write.
type fakePool struct {
	mu     sync.Mutex
	values map[string]string
	writes int
}

func (f *fakePool) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cip.AdminGetUserOutput{Username: in.Username, Enabled: true}
	if v, ok := f.values[aws.ToString(in.Username)]; ok {
		out.UserAttributes = []types.AttributeType{{Name: aws.String(links.Attribute), Value: aws.String(v)}}
	}
	return out, nil
}

func (f *fakePool) AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, _ ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	for _, a := range in.UserAttributes {
		if aws.ToString(a.Name) != links.Attribute {
			return nil, errors.New("unexpected attribute " + aws.ToString(a.Name))
		}
		if len(aws.ToString(a.Value)) > 2048 {
			return nil, &types.InvalidParameterException{Message: aws.String("value too long")}
		}
		f.values[aws.ToString(in.Username)] = aws.ToString(a.Value)
	}
	return &cip.AdminUpdateUserAttributesOutput{}, nil
}

func TestCognitoAttribute(t *testing.T) {
	linkstest.Run(t, func(t *testing.T, now func() time.Time) links.Backend {
		return links.NewCognitoAttribute(&fakePool{values: map[string]string{}}, "pool")
	}, linkstest.Caps{})
}

func TestCognitoAttributeForeignValues(t *testing.T) {
	ctx := context.Background()
	pool := &fakePool{values: map[string]string{
		"seed":    "3f1c2a9e-6b0d-4e57-9d8a-2c4b6e8f0a13,1712345678", // the seed's own format
		"corrupt": "v1 not-a-hash.1.2",
	}}
	s := links.New(links.NewCognitoAttribute(pool, "pool"), nil)
	now := linkstest.T0

	// The seed's value is nothing this product can verify; it must not lock
	// its user out.
	if held, err := s.Issue(ctx, "seed", links.NewLink{Secret: linkstest.Secret(1)}, now, time.Minute, time.Minute); err != nil || held {
		t.Fatalf("seed value: held %v, err %v", held, err)
	}
	if !strings.HasPrefix(pool.values["seed"], "v1 ") {
		t.Fatalf("seed value not replaced: %q", pool.values["seed"])
	}
	// A value in our format that does not parse is an error, never a sign-in,
	// and is left for an operator to look at.
	ok, err := s.Redeem(ctx, "corrupt", linkstest.Secret(1), "n", now)
	if ok || !errors.Is(err, links.ErrCorrupt) {
		t.Fatalf("corrupt value: ok %v, err %v; want ErrCorrupt", ok, err)
	}
	if _, err := s.Issue(ctx, "corrupt", links.NewLink{Secret: linkstest.Secret(1)}, now, time.Minute, 0); !errors.Is(err, links.ErrCorrupt) {
		t.Fatalf("Issue over a corrupt value: %v, want ErrCorrupt", err)
	}
	if pool.values["corrupt"] != "v1 not-a-hash.1.2" {
		t.Fatal("a corrupt value was overwritten")
	}
	if _, _, err := s.Count(ctx, "ip#192.0.2.1", 1, time.Minute, now); !errors.Is(err, links.ErrUnsupported) {
		t.Fatalf("Allow on the attribute: %v, want ErrUnsupported", err)
	}
}
