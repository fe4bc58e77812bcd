/**
 * The consumer's services behind one interface, from two hands: the project's fakes
 * (./consumer-harness: scriptable faults, calls recorded) or moto in server mode (./moto: an AWS
 * emulator we did not write). A test of the consumer's main behaviours runs against both and reads
 * what came out the way a user would: the events a rule on the bus delivered, the dead letters in
 * the queue, the sighting items in the table.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ConsumerServices, startServices, TABLE, useConsumerEndpoints } from './consumer-harness';
import { SQS_MAX_MESSAGE_SIZE } from './fake-sqs';
import { MOTO_ACCOUNT, MotoServer } from './moto';

/** A face event as a rule's target receives it. */
export interface DeliveredEvent {
  readonly Source: string;
  readonly DetailType: string;
  readonly Resources: string[];
  readonly Detail: any;
}

export interface ConsumerBackend {
  /** 'fakes' or 'moto'. */
  readonly name: string;
  /** The dead-letter queue's URL, for DEAD_LETTER_QUEUE_URL. */
  readonly dlqUrl: string;
  /** The fakes, when the backend is the fakes (the queue's size limit is set through them). */
  readonly fakes?: ConsumerServices;
  /** Every event put on the bus 'faces-bus' since the last reset, in order. */
  events(): Promise<DeliveredEvent[]>;
  /** Every dead letter since the last reset: the message body as sent, in order. */
  deadLetters(): Promise<string[]>;
  /** The sighting table's items. */
  sightings(): Promise<Array<Record<string, any>>>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The project's fakes (consumer-harness.ts's startServices). */
export async function fakeConsumerBackend(): Promise<ConsumerBackend> {
  const services = await startServices();
  return {
    name: 'fakes',
    dlqUrl: services.dlqUrl,
    fakes: services,
    events: async () => services.eventBridge.events.filter((e) => e.EventBusName === 'faces-bus').map((e) => ({ Source: e.Source, DetailType: e.DetailType, Resources: e.Resources ?? [], Detail: e.Detail })),
    deadLetters: async () => services.sqs.messages.filter((m) => m.QueueUrl === services.dlqUrl).map((m) => m.Body),
    sightings: async () => services.dynamodb.items(TABLE),
    reset: async () => services.reset(),
    stop: () => services.stop(),
  };
}

/**
 * moto: the bus 'faces-bus' with a rule sending every face event to a tap queue, the dead-letter
 * queue (MaximumMessageSize 1 MiB, as the construct sets it) and the sighting table (key `pk`, TTL
 * on `expiresAt`), made again after each reset.
 */
export async function motoConsumerBackend(): Promise<ConsumerBackend> {
  const moto = new MotoServer();
  const url = await moto.start();
  useConsumerEndpoints(url, url, url);
  const client = { region: 'us-west-2', endpoint: url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };
  const sqs = new SQSClient(client);
  const eventBridge = new EventBridgeClient(client);
  const dynamodb = new DynamoDBClient(client);
  let dlqUrl = '';
  let tapUrl = '';
  let received: { events: DeliveredEvent[]; letters: string[] } = { events: [], letters: [] };

  const create = async () => {
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'face-dlq', Attributes: { MaximumMessageSize: String(SQS_MAX_MESSAGE_SIZE) } }))).QueueUrl!;
    tapUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'face-events-tap' }))).QueueUrl!;
    await eventBridge.send(new CreateEventBusCommand({ Name: 'faces-bus' }));
    await eventBridge.send(new PutRuleCommand({ Name: 'tap', EventBusName: 'faces-bus', EventPattern: JSON.stringify({ source: ['face-stream-pipeline'] }) }));
    await eventBridge.send(new PutTargetsCommand({ Rule: 'tap', EventBusName: 'faces-bus', Targets: [{ Id: 'tap', Arn: `arn:aws:sqs:us-west-2:${MOTO_ACCOUNT}:face-events-tap` }] }));
    await dynamodb.send(new CreateTableCommand({ TableName: TABLE, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
    await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
    received = { events: [], letters: [] };
  };
  /** Receives (and deletes) what the queue holds, in order. */
  const drain = async (queueUrl: string): Promise<string[]> => {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) {
        return bodies;
      }
      bodies.push(...Messages.map((m) => m.Body!));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  };
  await create();

  return {
    name: 'moto',
    get dlqUrl() {
      return dlqUrl;
    },
    async events() {
      for (const body of await drain(tapUrl)) {
        const e = JSON.parse(body);
        received.events.push({ Source: e.source, DetailType: e['detail-type'], Resources: e.resources, Detail: e.detail });
      }
      return received.events;
    },
    async deadLetters() {
      received.letters.push(...(await drain(dlqUrl)));
      return received.letters;
    },
    async sightings() {
      return (await dynamodb.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    },
    async reset() {
      await moto.reset();
      await create();
    },
    async stop() {
      for (const c of [sqs, eventBridge, dynamodb]) {
        c.destroy();
      }
      await moto.stop();
    },
  };
}
