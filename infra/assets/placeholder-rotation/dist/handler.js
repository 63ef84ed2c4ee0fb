// Placeholder uploaded by offline synth when the rotation function was not bundled
// (`pnpm --filter @jobsphere/infra bundle`). It fails every rotation step loudly.
export const handler = async () => {
  throw new Error('jobsphere-chat: placeholder rotation function deployed; run the infra bundle script and deploy again');
};
