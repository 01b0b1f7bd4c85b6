terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
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
