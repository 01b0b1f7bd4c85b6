package links

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"magiclinks/challenge"
)

// DynamoAPI is the part of the DynamoDB client used here; *dynamodb.Client
// satisfies it.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var (
	_ DynamoAPI = (*dynamodb.Client)(nil)
	_ Backend   = (*Dynamo)(nil)
)

// Item layout in the table (key schema pk/sk, TTL on expiresAt):
//
//	pk "user#<username>"  sk "links"   links (S), ver (N), receipt (S), spentAt (N),
//	                                   codeFails (N), request (S), expiresAt (N)
//	pk "<counter key>"    sk "count"   n (N), expiresAt (N)
//
// DynamoDB deletes expired items only eventually (dynalite never does): the
// rules read the lifetimes inside the item, never the TTL.
const (
	userPrefix  = "user#"
	recordSK    = "links"
	counterSK   = "count"
	attrPK      = "pk"
	attrSK      = "sk"
	attrLinks   = "links"
	attrVer     = "ver"
	attrReceipt = "receipt"
	attrSpentAt = "spentAt"
	attrFails   = "codeFails"
	attrRequest = "request"
	attrN       = "n"
	attrExpires = "expiresAt"
)

// Dynamo is the Backend on a DynamoDB table (LINKS_TABLE).
type Dynamo struct {
	api   DynamoAPI
	table string
}

// NewDynamo returns the backend on table reached through api.
func NewDynamo(api DynamoAPI, table string) *Dynamo {
	return &Dynamo{api: api, table: table}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Load reads the user's record with a strongly consistent read, so a fresh
// write is seen and the compare-and-set rarely has to go round again.
func (d *Dynamo) Load(ctx context.Context, user string) (Record, Version, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &d.table,
		Key:            key(userPrefix+user, recordSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Record{}, 0, d.wrap("GetItem", err)
	}
	if len(out.Item) == 0 {
		return Record{}, 0, nil
	}
	return decodeRecord(out.Item)
}

// decodeRecord reads an item this package wrote; anything else is
// ErrCorrupt, naming what is wrong but never a value.
func decodeRecord(item map[string]types.AttributeValue) (Record, Version, error) {
	bad := func(what string) (Record, Version, error) {
		return Record{}, 0, fmt.Errorf("%w: item %s", ErrCorrupt, what)
	}
	ver, ok := numAttr(item[attrVer])
	if !ok || ver < 1 {
		return bad("has no valid ver")
	}
	s, ok := item[attrLinks].(*types.AttributeValueMemberS)
	if !ok {
		return bad("has no links string")
	}
	set, err := challenge.Parse(s.Value)
	if err != nil {
		return bad("has unreadable links (" + err.Error() + ")")
	}
	rec := Record{Links: set}
	if v, present := item[attrReceipt]; present {
		r, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return bad("has a receipt that is not a string")
		}
		rec.Receipt = r.Value
	}
	if v, present := item[attrSpentAt]; present {
		if rec.SpentAt, ok = numAttr(v); !ok || rec.SpentAt < 0 {
			return bad("has an invalid spentAt")
		}
	}
	if v, present := item[attrFails]; present {
		n, ok := numAttr(v)
		if !ok || n < 0 || n > 1000 {
			return bad("has an invalid codeFails")
		}
		rec.CodeFails = int(n)
	}
	if v, present := item[attrRequest]; present {
		r, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return bad("has a request that is not a string")
		}
		if rec.Request, ok = decodeRequest(r.Value); !ok {
			return bad("has an unreadable request")
		}
	}
	return rec, Version(ver), nil
}

// A request is stored as "id answerHash number expires state": hashes,
// two digits, a time and a word, never a handle or an answer.
func encodeRequest(r Request) string {
	return strings.Join([]string{r.ID, r.AnswerHash, r.Number, strconv.FormatInt(r.Expires, 10), string(r.State)}, " ")
}

func decodeRequest(s string) (Request, bool) {
	f := strings.Split(s, " ")
	if len(f) != 5 || len(f[0]) != 43 || len(f[1]) != 43 || len(f[2]) != 2 {
		return Request{}, false
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	state := RequestState(f[4])
	if err != nil || exp < 0 || (state != Pending && state != Approved && state != Consumed && state != Void) {
		return Request{}, false
	}
	return Request{ID: f[0], AnswerHash: f[1], Number: f[2], Expires: exp, State: state}, true
}

func numAttr(v types.AttributeValue) (int64, bool) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	return i, err == nil
}

// Save writes the whole record on the condition that its version is still
// prev (or, for prev 0, that there is none): a writer that read before a
// spend can never write the spent links back.
func (d *Dynamo) Save(ctx context.Context, user string, rec Record, prev Version, expires time.Time) error {
	item := key(userPrefix+user, recordSK)
	item[attrLinks] = &types.AttributeValueMemberS{Value: rec.Links.String()}
	item[attrVer] = num(int64(prev) + 1)
	item[attrExpires] = num(expires.Unix())
	if rec.Receipt != "" {
		item[attrReceipt] = &types.AttributeValueMemberS{Value: rec.Receipt}
	}
	if rec.SpentAt > 0 {
		item[attrSpentAt] = num(rec.SpentAt)
	}
	if rec.CodeFails > 0 {
		item[attrFails] = num(int64(rec.CodeFails))
	}
	if rec.Request.ID != "" {
		item[attrRequest] = &types.AttributeValueMemberS{Value: encodeRequest(rec.Request)}
	}
	in := &dynamodb.PutItemInput{TableName: &d.table, Item: item}
	if prev == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("ver = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(int64(prev))}
	}
	_, err := d.api.PutItem(ctx, in)
	var cond *types.ConditionalCheckFailedException
	if errors.As(err, &cond) {
		return ErrConflict
	}
	if err != nil {
		return d.wrap("PutItem", err)
	}
	return nil
}

// Incr adds one to a counter in one atomic update.
func (d *Dynamo) Incr(ctx context.Context, key_ string, expires time.Time) (int64, error) {
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &d.table,
		Key:              key(key_, counterSK),
		UpdateExpression: aws.String("ADD #n :one SET #e = if_not_exists(#e, :exp)"),
		ExpressionAttributeNames: map[string]string{
			"#n": attrN, "#e": attrExpires,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":exp": num(expires.Unix()),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, d.wrap("UpdateItem", err)
	}
	n, ok := numAttr(out.Attributes[attrN])
	if !ok {
		return 0, fmt.Errorf("%w: counter item has no valid n", ErrCorrupt)
	}
	return n, nil
}

// wrap names the operation and the table; a missing table is the one
// mistake an operator makes at deploy time, so it says so plainly.
func (d *Dynamo) wrap(op string, err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("links: DynamoDB %s: table %q not found (LINKS_TABLE): %w", op, d.table, err)
	}
	return fmt.Errorf("links: DynamoDB %s on table %q: %w", op, d.table, err)
}
