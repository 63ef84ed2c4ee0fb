// Placeholder uploaded by offline synth when the real gateway bundle was not built
// (`pnpm --filter @jobsphere/infra bundle`). It fails loudly so health checks never pass on it.
console.error('jobsphere-chat: placeholder bundle deployed; run the infra bundle script and deploy again');
process.exit(1);
