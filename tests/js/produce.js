'use strict'
/*
 * usage: node produce.js BROKER TOPIC COUNT COMPRESSION(none|gzip) BASE_TIMESTAMP
 * Produces COUNT keyed messages with headers and timestamps (acks=-1), in
 * batches of 100, and prints the offsets the broker acknowledged.
 * Message i: key "key-(i%13)", value "js-i", headers {seq: i, lib: kafkajs},
 * timestamp BASE_TIMESTAMP + i.
 */
const { CompressionTypes } = require('kafkajs')
const { client, run } = require('./lib')

const [broker, topic, countArg, compressionArg, baseTsArg] = process.argv.slice(2)
const count = parseInt(countArg, 10)
const baseTs = parseInt(baseTsArg, 10)
const compression = compressionArg === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None

run(async () => {
  const producer = client(broker, 'fjord-js-producer').producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const acks = []
    for (let start = 0; start < count; start += 100) {
      const messages = []
      for (let i = start; i < Math.min(count, start + 100); i++) {
        messages.push({
          key: 'key-' + (i % 13),
          value: 'js-' + i,
          headers: { seq: String(i), lib: 'kafkajs' },
          timestamp: String(baseTs + i),
        })
      }
      const res = await producer.send({ topic, messages, acks: -1, compression })
      for (const r of res) acks.push({ partition: r.partition, baseOffset: r.baseOffset, errorCode: r.errorCode })
    }
    return { acks }
  } finally {
    await producer.disconnect()
  }
})
