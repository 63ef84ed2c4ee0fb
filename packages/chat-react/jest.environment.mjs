import { TestEnvironment } from 'jest-environment-jsdom';

// React renders into jsdom; the client beside it talks to a real gateway with Node's own
// networking (socket.io-client's Node build, Node's fetch and its AbortSignal, which that fetch
// insists on), as it would in a browser with the browser's.
export default class ChatReactEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(
      {
        ...config,
        projectConfig: {
          ...config.projectConfig,
          testEnvironmentOptions: {
            ...config.projectConfig.testEnvironmentOptions,
            customExportConditions: ['node', 'node-addons'],
          },
        },
      },
      context,
    );
    const node = globalThis;
    Object.assign(this.global, {
      fetch: node.fetch,
      Request: node.Request,
      Response: node.Response,
      Headers: node.Headers,
      AbortController: node.AbortController,
      AbortSignal: node.AbortSignal,
      TextEncoder: node.TextEncoder,
      TextDecoder: node.TextDecoder,
      structuredClone: node.structuredClone,
      crypto: node.crypto,
      setImmediate: node.setImmediate,
      clearImmediate: node.clearImmediate,
    });
  }
}
