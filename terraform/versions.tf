terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  # hashicorp/aws only: make build writes the zip, so no archive provider.
  # 5.100 and every 6.x: the module uses only what both have (CI plans it with
  # 5.100). No lock file is committed; see README "Pin the provider".
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

provider "aws" {
  # Region and credentials come from the standard AWS settings
  # (AWS_REGION / AWS_PROFILE / ~/.aws); nothing is hard-coded here.
  default_tags {
    tags = var.tags
  }
}
