'use strict'
/*
 * usage: node admin.js BROKER TOPIC
 * Admin round trip: create (3 partitions), create again, validate-only,
 * invalid name, metadata, list, delete, delete unknown. Prints what each
 * step returned; the Python test judges it.
 */
const { client, run, failsWith, plain } = require('./lib')

const [broker, topic] = process.argv.slice(2)

run(async () => {
  const admin = client(broker, 'fjord-js-admin').admin()
  await admin.connect()
  try {
    const out = {}
    out.created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      timeout: 10000,
    })
    out.createdAgain = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], timeout: 10000 })
    const vo = topic + '-validate-only'
    // waitForLeaders would look the never-created topic up and fail (kafkajs does so against Kafka too).
    out.validateOnly = await admin.createTopics({
      topics: [{ topic: vo }],
      validateOnly: true,
      waitForLeaders: false,
      timeout: 10000,
    })
    out.invalidNameErrors = await failsWith(
      admin.createTopics({ topics: [{ topic: 'bad name!' }], timeout: 10000, waitForLeaders: false })
    )
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    out.metadata = plain(md.topics.map(t => ({
      name: t.name,
      partitions: t.partitions
        .map(p => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
        .sort((a, b) => a.partition - b.partition),
    })))
    const listed = await admin.listTopics()
    out.listedTopic = listed.includes(topic)
    out.listedValidateOnly = listed.includes(vo)
    const cluster = await admin.describeCluster()
    out.controller = cluster.controller
    out.brokers = cluster.brokers.map(b => b.nodeId)
    await admin.deleteTopics({ topics: [topic], timeout: 10000 })
    let stillListed = true
    for (let i = 0; i < 50 && stillListed; i++) {
      stillListed = (await admin.listTopics()).includes(topic)
      if (stillListed) await new Promise(r => setTimeout(r, 200))
    }
    out.deleted = !stillListed
    out.deleteUnknownErrors = await failsWith(admin.deleteTopics({ topics: ['never-created-js'], timeout: 5000 }))
    return out
  } finally {
    await admin.disconnect()
  }
})
