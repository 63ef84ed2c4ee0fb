#!/usr/bin/env bash
# One-time setup per AWS account and region, before the first deploy: the S3 bucket (versioned,
# KMS-encrypted with its own key, TLS only, no public access) that holds the Terraform state of
# both stacks, locked with S3-native lock files. Safe to run again: it changes nothing that is
# already right. Prints the deploy inputs it can know (stateBucket, today's Amazon Linux 2023 AMI).
#
#   AWS_REGION=us-east-1 bootstrap-state.sh        (STATE_BUCKET=... to choose the name)
set -euo pipefail

aws_cli=${AWS_CLI:-aws}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
alias_name=alias/jobsphere-chat-tfstate

aws() { command "$aws_cli" --region "$region" "$@"; }
log() { echo "bootstrap-state: $*" >&2; }

account=$(aws sts get-caller-identity --query Account --output text)
bucket=${STATE_BUCKET:-jobsphere-chat-tfstate-$account-$region}
log "account $account, region $region, bucket $bucket"

if key_arn=$(aws kms describe-key --key-id "$alias_name" --query KeyMetadata.Arn --output text 2>/dev/null); then
  log "state key exists: $key_arn"
else
  key_arn=$(aws kms create-key --description 'JobSphere chat: Terraform state' \
    --tags TagKey=Project,TagValue=jobsphere-chat --query KeyMetadata.Arn --output text)
  aws kms create-alias --alias-name "$alias_name" --target-key-id "$key_arn"
  log "created state key $key_arn ($alias_name)"
fi
aws kms enable-key-rotation --key-id "$key_arn"

if aws s3api head-bucket --bucket "$bucket" 2>/dev/null; then
  log "bucket exists"
else
  if [[ "$region" == us-east-1 ]]; then
    aws s3api create-bucket --bucket "$bucket" >/dev/null
  else
    aws s3api create-bucket --bucket "$bucket" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
  log "created bucket"
fi
aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-ownership-controls --bucket "$bucket" \
  --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
# Every state write stays recoverable (a bad apply can be rolled back to the previous state).
aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"$key_arn\"},\"BucketKeyEnabled\":true}]}"
aws s3api put-bucket-policy --bucket "$bucket" --policy \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::$bucket\",\"arn:aws:s3:::$bucket/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"
aws s3api put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration \
  '{"Rules":[{"ID":"expire-old-state-versions","Status":"Enabled","Filter":{"Prefix":""},"NoncurrentVersionExpiration":{"NoncurrentDays":90}}]}'
log "bucket configured: versioned, KMS, TLS only, no public access"

ami=$(aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 \
  --query Parameter.Value --output text 2>/dev/null) || ami='(could not read the AMI parameter)'
cat <<EOF
Put these in infra/deploy-inputs.json:
  "stateBucket": "$bucket"
  "amiId": "$ami"   (Amazon Linux 2023, x86_64, today; pin it and change it on purpose)
EOF
