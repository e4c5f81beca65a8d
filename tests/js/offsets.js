'use strict'
/*
 * usage: node offsets.js BROKER TOPIC TIMESTAMP
 * Prints fetchTopicOffsets (low/high per partition) and
 * fetchTopicOffsetsByTimestamp for TIMESTAMP.
 */
const { client, run } = require('./lib')

const [broker, topic, ts] = process.argv.slice(2)

run(async () => {
  const admin = client(broker, 'fjord-js-offsets').admin()
  await admin.connect()
  try {
    const offsets = (await admin.fetchTopicOffsets(topic))
      .map(o => ({ partition: o.partition, low: o.low, high: o.high }))
      .sort((a, b) => a.partition - b.partition)
    const byTimestamp = (await admin.fetchTopicOffsetsByTimestamp(topic, parseInt(ts, 10)))
      .sort((a, b) => a.partition - b.partition)
    return { offsets, byTimestamp }
  } finally {
    await admin.disconnect()
  }
})
