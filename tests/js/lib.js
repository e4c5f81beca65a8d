'use strict'
/*
 * Shared bits of the kafkajs scenarios: client construction, error
 * flattening, and the "print one JSON line, exit 0/1" convention that
 * tests/integration/test_kafkajs.py relies on.
 */
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel } = require('kafkajs')

function client(broker, clientId) {
  return new Kafka({
    clientId: clientId || 'fjord-js-test',
    brokers: [broker],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
  })
}

/* Every Kafka error type found in an error and what it wraps. */
function errorTypes(e, out = [], depth = 0) {
  if (!e || depth > 6) return out
  if (e.type) out.push(e.type)
  if (e.name && !out.includes(e.name)) out.push(e.name)
  errorTypes(e.cause, out, depth + 1)
  errorTypes(e.originalError, out, depth + 1)
  for (const sub of e.errors || []) errorTypes(sub, out, depth + 1)
  return out
}

/* Run main(); print its result (or the failure) as one JSON line. */
function run(main) {
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ ok: false, error: 'scenario timed out' }))
    process.exit(1)
  }, 90000)
  main()
    .then(result => {
      clearTimeout(timer)
      console.log(JSON.stringify(Object.assign({ ok: true }, result)))
      process.exit(0)
    })
    .catch(e => {
      clearTimeout(timer)
      console.log(JSON.stringify({ ok: false, error: String(e && e.stack), types: errorTypes(e) }))
      process.exit(1)
    })
}

/* Await p and return the error types it failed with ([] if it succeeded). */
async function failsWith(p) {
  try {
    await p
    return []
  } catch (e) {
    return errorTypes(e)
  }
}

/* JSON cannot hold BigInt / Buffer: stringify values we report. */
function plain(v) {
  return JSON.parse(JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x)))
}

module.exports = { client, errorTypes, run, failsWith, plain }
