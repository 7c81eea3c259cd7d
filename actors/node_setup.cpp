#include "actors/node_setup.hpp"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/caf_errors.hpp"
#include "enrichment/enrich_stages.hpp"
#include "pipelines/encoder_choice.hpp"
#include "session/output_file.hpp"

namespace postroll {

result<supervisor_config> supervisor_config_for(const config& cfg) {
  supervisor_config sc;
  sc.queue.data_dir = cfg.data_dir;
  sc.queue.max_attempts = cfg.max_attempts;
  sc.queue.retry_base_ms = cfg.retry_base_ms;
  sc.queue.retry_cap_ms = cfg.retry_cap_ms;
  sc.queue.aging_ms = cfg.aging_ms;
  sc.queue.preempt = cfg.preempt;
  sc.queue.preempt_window_ms = cfg.preempt_window_ms;
  sc.queue.stall_timeout_ms = cfg.stall_timeout_ms;
  sc.queue.cancel_grace_ms = cfg.cancel_grace_ms;
  sc.queue.min_free_factor = cfg.min_free_factor;
  sc.queue.missing_audio_as_silence = cfg.undecodable_as_silence;
  sc.queue.session_roots = cfg.session_roots;
  sc.queue.max_session_ms = std::int64_t(cfg.max_session_hours) * 3600000;
  sc.queue.max_session_files = std::size_t(cfg.max_session_files);
  sc.queue.disk_wait_ms = cfg.disk_wait_ms;
  sc.media.max_session_ms = sc.queue.max_session_ms;
  sc.media.max_session_files = sc.queue.max_session_files;
  sc.media.output_dir = cfg.output_dir;
  sc.media.undecodable_as_silence = cfg.undecodable_as_silence;
  sc.media.decode_threads = cfg.decode_threads;
  sc.media.repair_reference = cfg.repair_reference;
  sc.media.playable = cfg.playable;
  sc.media.video_gaps = cfg.video_gaps;
  sc.media.max_video_width = cfg.max_video_width;
  sc.media.max_video_height = cfg.max_video_height;
  sc.media.audio_rate = cfg.audio_rate;
  sc.queue.playable = cfg.playable;
  sc.queue.compress = cfg.compress;
  sc.queue.retention = cfg.retention;
  sc.queue.trash_days = cfg.trash_days;
  sc.queue.output_dir = cfg.output_dir;
  sc.queue.purge_interval_ms = cfg.purge_interval_ms;
  sc.media.quality = cfg.quality;
  sc.media.encoder_ranking = cfg.encoders.empty() ? default_encoder_ranking() : cfg.encoders;
  if (cfg.compress) {
    // Chosen once per process, with the reasons in the log.
    auto choice = choose_encoder(sc.media.encoder_ranking);
    for (const auto& [name, why] : choice.skipped)
      spdlog::info("compress: encoder {} skipped: {}", name, why);
    if (choice.name.empty())
      // Compression is an optimisation: the node runs, media.compress says why it did nothing.
      spdlog::warn("compress: none of the H.264 encoders in media.encoders is usable here (see above why); "
                   "sessions stay as merged");
    else
      spdlog::info("compress: using encoder {} ({} preset)", choice.name, cfg.quality);
    sc.media.encoder = choice.name;
  }
  sc.media_workers = cfg.media_workers;
  if (cfg.media_workers == 0)
    sc.queue.unserved_pools.push_back("media");
  if (cfg.enrich_workers == 0 && cfg.enrich)
    sc.queue.unserved_pools.push_back("enrich");
  // Enrichment: the engines and what each stage needs, from [enrich].
  sc.queue.enrich = cfg.enrich;
  sc.queue.transcript_after_chapters = cfg.screen_vocabulary > 0;
  sc.queue.max_enrich_jobs = cfg.max_enrich_jobs;
  sc.enrich_workers = cfg.enrich_workers;
  sc.live_workers = cfg.role == "worker" ? 0 : cfg.live_workers;  // where the queue is: it follows the folders
  if (sc.live_workers == 0 && cfg.role != "worker")
    sc.queue.unserved_pools.push_back("live");
  auto& e = sc.enrich;
  e.output_dir = cfg.output_dir;
  e.missing_audio_as_silence = cfg.undecodable_as_silence;
  e.max_session_ms = sc.queue.max_session_ms;
  e.max_session_files = sc.queue.max_session_files;
  e.audio.min_audio_ms = cfg.min_audio_ms;
  e.audio.asr.model_dir = cfg.speech_model;
  e.audio.asr.speed = cfg.asr_speed;
  e.audio.asr_threads = cfg.asr_threads;
  e.screen_vocabulary = cfg.screen_vocabulary;
  e.chapters.min_chapter_ms = cfg.min_chapter_ms;
  e.chapters.scene.cut_fraction = cfg.scene_threshold;
  e.chapters.ocr_language = cfg.ocr_language;
  e.summary.sentences = std::size_t(cfg.summary_sentences);
  e.summary.chat_url = cfg.chat_url;
  e.summary.chat_model = cfg.chat_model;
  e.summary.chat_key_env = cfg.chat_key_env;
  e.summary.chat_timeout_ms = long(cfg.chat_timeout_ms);
  e.canvas_format = cfg.canvas_format;
  for (const auto& c : cfg.enrich_commands) {
    e.commands[c.stage] = external_command{c.argv, c.timeout_ms, c.after};
    if (!is_builtin_enrich_stage(c.stage))
      sc.queue.extra_stages.push_back(extra_stage{c.stage, c.after});
  }
  sc.notify.desktop = cfg.desktop_notifications;
  sc.notify.webhook_url = cfg.webhook_url;
  sc.notify.webhook_timeout_ms = long(cfg.webhook_timeout_ms);
  sc.notify.webhook_attempts = cfg.webhook_attempts;
  sc.notify.webhook_secret_env = cfg.webhook_secret_env;
  sc.notify.command = cfg.notify_command;
  sc.notify.command_timeout_ms = long(cfg.notify_command_timeout_ms);
  sc.live.enrich = sc.enrich;
  sc.live.media = sc.media;
  sc.live.output_dir = cfg.output_dir;
  sc.live.idle_timeout_ms = cfg.live_idle_timeout_ms;
  sc.live.transcribe = cfg.enrich;
  sc.queue.outbox = sc.notify.durable();
  sc.queue.local_node = node_info_for(cfg, sc);
  sc.queue.lease_ms = cfg.lease_ms;
  if (cfg.role == "coordinator")
    sc.queue.adopt_ms = cfg.adopt_ms < 0 ? cfg.lease_ms : cfg.adopt_ms;
  return sc;
}

std::string node_id_for(const config& cfg) {
  if (!cfg.id.empty())
    return cfg.id;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host[0] ? host : "postroll";
}

node_info node_info_for(const config& cfg, const supervisor_config& sc) {
  node_info n;
  n.id = node_id_for(cfg);
  n.version = POSTROLL_VERSION;
  n.cores = std::thread::hardware_concurrency();
  auto free = volume_free_bytes(cfg.data_dir.empty() ? "." : cfg.data_dir);
  if (!free)
    free = volume_free_bytes(".");
  n.free_bytes = free.value_or(-1);
  if (!sc.media.encoder.empty()) {
    n.encoders.push_back(sc.media.encoder);
    n.hardware_encoder = !is_software_encoder(sc.media.encoder);
  }
  n.media_workers = sc.media_workers;
  n.enrich_workers = cfg.enrich ? sc.enrich_workers : 0;
  if (n.media_workers > 0)
    n.stages.push_back("media.*");
  if (n.enrich_workers > 0) {
    n.stages.push_back("enrich.*");
    for (const auto& c : cfg.enrich_commands)
      n.stages.push_back(c.stage);
  }
  return n;
}

bool uses_tls(const config& cfg) { return !cfg.tls_certificate.empty(); }

void configure_transport(caf::actor_system_config& caf_cfg, const config& cfg) {
  caf_cfg.load<caf::io::middleman>();
  if (!uses_tls(cfg))
    return;
  // Every node presents a certificate signed by the CA and checks the
  // peer's against it; CAF refuses the handshake otherwise.
  caf_cfg.openssl_certificate = cfg.tls_certificate;
  caf_cfg.openssl_key = cfg.tls_key;
  caf_cfg.openssl_cafile = cfg.tls_ca;
  caf_cfg.load<caf::openssl::manager>();
}

result<std::uint16_t> publish_actor(caf::actor_system& sys, const supervisor_actor& whom, const std::string& host,
                                    std::uint16_t port, bool tls) {
  auto p = tls ? caf::openssl::publish(whom, port, host.c_str(), true)
               : sys.middleman().publish(whom, port, host.c_str(), true);
  if (!p)
    return error{errc::unavailable, "cannot listen on " + host + ":" + std::to_string(port) + (tls ? " (TLS)" : "") +
                                      ": " + plain_words(p.error())};
  return *p;
}

result<supervisor_actor> remote_supervisor(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                           bool tls) {
  auto sup = tls ? caf::openssl::remote_actor<supervisor_actor>(sys, host, port)
                 : sys.middleman().remote_actor<supervisor_actor>(host, port);
  if (!sup)
    return error{errc::unavailable, "no postroll node at " + host + ":" + std::to_string(port) +
                                      (tls ? " (TLS)" : "") + " (" + plain_words(sup.error()) + ")"};
  return *sup;
}

}  // namespace postroll
