#include "broker/metrics/broker_metrics.hpp"

namespace tocsin {

std::string BrokerMetrics::render() const {
  std::string out;
  render_header(out, "tocsin_incidents_received_total", "counter",
                "Incident reports received, by transport.");
  render_sample(out, "tocsin_incidents_received_total", "transport=\"zmq\"",
                double(received_zmq.value()));
  render_sample(out, "tocsin_incidents_received_total", "transport=\"http\"",
                double(received_http.value()));
  render_header(out, "tocsin_incidents_created_total", "counter",
                "Reports that created a new incident (committed).");
  render_sample(out, "tocsin_incidents_created_total", "", double(created.value()));
  render_header(out, "tocsin_incidents_updated_total", "counter",
                "Reports folded into an active incident with the same dedup_key (committed).");
  render_sample(out, "tocsin_incidents_updated_total", "", double(updated.value()));
  render_header(out, "tocsin_incidents_rejected_total", "counter",
                "Reports refused, by reason (the error code of the reply).");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [reason, counter] : rejected_)
      render_sample(out, "tocsin_incidents_rejected_total", "reason=\"" + reason + "\"",
                    double(counter.value()));
  }
  commit_seconds.render(out, "tocsin_journal_commit_seconds",
                        "Time to write and commit one group of incidents to SQLite.");
  ack_seconds.render(out, "tocsin_ingest_ack_seconds",
                     "From reading a ZeroMQ report to sending its acknowledgement (durable).");
  batch_size.render(out, "tocsin_journal_batch_size", "Incidents per journal commit.");
  render_header(out, "tocsin_journal_commit_failures_total", "counter",
                "Journal transactions rolled back: nothing in them was acknowledged.");
  render_sample(out, "tocsin_journal_commit_failures_total", "", double(commit_failures.value()));
  render_header(
      out, "tocsin_journal_internal_errors_total", "counter",
      "Journal transactions rolled back on an unexpected exception (a bug: see the log).");
  render_sample(out, "tocsin_journal_internal_errors_total", "", double(internal_errors.value()));
  render_header(out, "tocsin_journal_queue", "gauge", "Reports waiting for the journal.");
  render_sample(out, "tocsin_journal_queue", "", double(journal_queue.load()));
  render_header(out, "tocsin_runs_pending", "gauge",
                "Committed reports whose playbooks have not run yet.");
  render_sample(out, "tocsin_runs_pending", "", double(runs_pending.load()));
  render_header(out, "tocsin_redis_up", "gauge",
                "1 when the live-state projection in Redis is connected and current.");
  render_sample(out, "tocsin_redis_up", "", double(redis_up.load()));
  render_header(out, "tocsin_redis_errors_total", "counter",
                "Redis commands or connections that failed.");
  render_sample(out, "tocsin_redis_errors_total", "", double(redis_errors.value()));
  render_header(out, "tocsin_redis_rebuilds_total", "counter",
                "Times the Redis projection was rebuilt from SQLite.");
  render_sample(out, "tocsin_redis_rebuilds_total", "", double(redis_rebuilds.value()));
  return out;
}

}  // namespace tocsin
