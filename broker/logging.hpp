#pragma once
// Where the log goes and in what form (log.format):
//   text     spdlog's own lines on standard error (the default; what a terminal reads)
//   json     one JSON object a line on standard error: time, level, thread, message, and the
//            ids the message names (incident_id, alert_id, delivery_id, run_id, approval_id)
//   journal  systemd's journal (sd_journal_send): the message with its PRIORITY, and the same
//            ids as fields (INCIDENT_ID=…), for journalctl -u tocsin INCIDENT_ID=…

#include <string>

namespace tocsin {

// Throws std::invalid_argument for a format not listed above.
void configure_logging(const std::string& format, const std::string& level);

}  // namespace tocsin
