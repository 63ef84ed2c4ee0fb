import { TerraformDataSource, TerraformStack, type TerraformElement } from 'cdktf';

/** Where a resource's justified checkov skips live in the synthesized JSON: its `//` comment. */
export const CHECKOV_SKIP_KEY = 'checkov:skip';

/**
 * Declares, on the resource itself, that a checkov check does not apply to it and why. checkov
 * reads `#checkov:skip=ID:reason` comments in HCL, but Terraform JSON has no comments and its
 * terraform_json runner (3.3.x) applies no inline suppressions at all; so the skip is written
 * into the resource's `//` block (which Terraform ignores) and infra/test/checkov.spec.ts counts
 * a failed check as skipped only where the failing resource carries it.
 */
export function skipCheck(element: TerraformElement, checkId: string, reason: string): void {
  const path = `//.${CHECKOV_SKIP_KEY}.${checkId}`;
  // A data source writes its `//` after its own overrides; the stack's are merged last.
  if (element instanceof TerraformDataSource)
    TerraformStack.of(element).addOverride(
      `data.${element.terraformResourceType}.${element.friendlyUniqueId}.${path}`,
      reason,
    );
  else element.addOverride(path, reason);
}

/** Reasons shared by several resources, so each is written (and reviewed) once. */
export const SKIP_REASONS = {
  logRetention:
    'retention is the environment setting logRetentionDays (dev 14, prod 90 days): these groups hold request paths, client addresses and user ids, kept no longer than operations need',
  noReplication:
    'single-region deployment by design (README, Inputs); cross-region copies are a disaster-recovery decision per operator, not a default',
  noEventConsumer:
    'nothing consumes object events from this bucket; notifications without a consumer are cost without use',
} as const;
