/** Kafka transports for change events (kafkajs; Kafka 3.9 from scripts/services/kafka.sh in tests). */
export { consumeDebeziumTopic } from './debezium-consumer.js';
export type { KafkaDebeziumOptions, KafkaDebeziumResult } from './debezium-consumer.js';
