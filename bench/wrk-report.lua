-- wrk's summary as one line of JSON at the end of its output, for bench/loadgen.ts to read.
-- Latencies are in microseconds; "status" errors are responses that were not 2xx or 3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"errors":%d,"non2xx":%d,"latencyP50Us":%d,"latencyP99Us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
