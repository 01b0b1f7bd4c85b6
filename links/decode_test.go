package links

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzDecodeRecord: whatever a table item holds, decoding never panics, and
// what it accepts is written back unchanged (so nothing committed is lost by
// a read-modify-write of a record this package wrote).
func FuzzDecodeRecord(f *testing.F) {
	f.Add("v1", int64(1), "", int64(0), int64(0), "")
	f.Add("v1 XdrkuOzT90IWFljF1K5cKCRtyFSZrLBbyY92BflZRbc.1773099840.1773100740", int64(3), "", int64(0), int64(2),
		"XdrkuOzT90IWFljF1K5cKCRtyFSZrLBbyY92BflZRbc XdrkuOzT90IWFljF1K5cKCRtyFSZrLBbyY92BflZRbc 42 1773100740 pending")
	f.Fuzz(func(t *testing.T, links string, ver int64, receipt string, spentAt, fails int64, request string) {
		item := map[string]types.AttributeValue{
			attrLinks:   &types.AttributeValueMemberS{Value: links},
			attrVer:     num(ver),
			attrSpentAt: num(spentAt),
			attrFails:   num(fails),
		}
		if receipt != "" {
			item[attrReceipt] = &types.AttributeValueMemberS{Value: receipt}
		}
		if request != "" {
			item[attrRequest] = &types.AttributeValueMemberS{Value: request}
		}
		rec, v, err := decodeRecord(item)
		if err != nil {
			return
		}
		// "" is the empty set, which is written as the bare version "v1".
		if v < 1 || (rec.Links.String() != links && links != "") || rec.CodeFails < 0 {
			t.Fatalf("accepted %q ver %d as %q ver %d", links, ver, rec.Links.String(), v)
		}
		if request != "" && encodeRequest(rec.Request) != request {
			t.Fatalf("request %q reads as %+v, written back as %q", request, rec.Request, encodeRequest(rec.Request))
		}
	})
}
