# The link store (DESIGN.md "Contract: the link store"): outstanding links and
# codes, resend holds, cross-device requests and per-IP counters, written with
# conditional updates. Only with link_store = "dynamodb"; "attribute" keeps
# link state in the user's custom:authChallenge, the seed's mode.
resource "aws_dynamodb_table" "links" {
  count = local.links_table ? 1 : 0

  name         = "${var.name}-links"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # DynamoDB deletes expired items within days, not at once: the code checks
  # expiresAt itself, TTL only keeps the table small.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  # Losing the table loses no account, only outstanding links and holds, but
  # restoring costs little at this size.
  point_in_time_recovery {
    enabled = true
  }

  # The AWS-managed key (aws/dynamodb): its use shows in CloudTrail, and the
  # function needs no KMS permission for it.
  server_side_encryption {
    enabled = true
  }

  # Follows the pool's: tear-down turns both off first (README).

  deletion_protection_enabled = var.deletion_protection
}
