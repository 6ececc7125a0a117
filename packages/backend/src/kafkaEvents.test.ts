import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import eventsPlugin from '@backstage/plugin-events-backend';
import kafkaModule from '@backstage/plugin-events-backend-module-kafka';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';

jest.setTimeout(60_000);

/** The Kafka example app-config.yaml documents, uncommented. */
function documentedKafkaConfig() {
  const text = fs.readFileSync(
    path.resolve(__dirname, '../../../app-config.yaml'),
    'utf8',
  );
  const lines = text.split('\n');
  const first = lines.indexOf('  # modules:');
  expect(first).toBeGreaterThan(0);
  const block: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('  #')) break;
    block.push(line.replace(/^ {2}# ?/, ''));
  }
  return parse(block.join('\n')).modules;
}

/**
 * A TCP listener standing in for a broker: it records the first request a
 * Kafka client sends (ApiVersions, API key 18, with the client id) and
 * answers nothing, so the client gives up after its timeouts.
 */
async function fakeBroker() {
  const requests: { apiKey: number; clientId: string }[] = [];
  const server = net.createServer(socket => {
    socket.once('data', (data: Buffer) => {
      // size (4) | api key (2) | version (2) | correlation id (4) | client id
      const apiKey = data.readInt16BE(4);
      const idLength = data.readInt16BE(12);
      requests.push({
        apiKey,
        clientId: data.toString('utf8', 14, 14 + idLength),
      });
      socket.destroy();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { requests, broker: `127.0.0.1:${port}`, close: () => server.close() };
}

describe('the Kafka events module', () => {
  it('is installed idle: the backend starts with it and no Kafka configured', async () => {
    const backend = await startTestBackend({
      features: [eventsPlugin, eventsServiceFactory, kafkaModule],
    });
    expect(backend.server.listening).toBe(true);
    await backend.stop();
  });

  it('consumes the topics app-config.yaml documents, at least once (autoCommit off)', async () => {
    const kafka = documentedKafkaConfig();
    const consumer = kafka.kafka.kafkaConsumingEventPublisher.production;
    expect(consumer.topics[0]).toEqual({
      topic: 'orders',
      kafka: {
        topics: ['shop.orders'],
        groupId: 'backstage-ml-platform',
        autoCommit: false,
        pauseOnError: true,
      },
    });

    const { requests, broker, close } = await fakeBroker();
    try {
      const limits = {
        brokers: [broker],
        connectionTimeout: { milliseconds: 500 },
        requestTimeout: { milliseconds: 500 },
        retry: { retries: 0 },
      };
      const backend = await startTestBackend({
        features: [
          eventsPlugin,
          eventsServiceFactory,
          kafkaModule,
          mockServices.rootConfig.factory({
            data: {
              events: {
                modules: {
                  kafka: {
                    kafkaConsumingEventPublisher: {
                      production: { ...consumer, ...limits },
                    },
                  },
                },
              },
            },
          }),
        ],
      });
      await backend.stop();
    } finally {
      close();
    }
    // The consumer configured from the example connected to the broker.
    expect(requests[0]).toEqual({
      apiKey: 18,
      clientId: 'backstage-ml-platform',
    });
  });
});
