// enrich.summary: what the session was about, from its transcript and
// chapters. Extractive by default (offline, deterministic); an
// OpenAI-compatible chat endpoint writes it instead when configured.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct summary_options {
  std::size_t sentences = 5;  ///< extractive: transcript utterances kept
  /// Chat endpoint: "" = extractive. A base URL ("https://host/v1") or the
  /// full ".../chat/completions" URL.
  std::string chat_url;
  std::string chat_model;
  std::string chat_key_env;       ///< environment variable holding the API key ("" = none)
  long chat_timeout_ms = 60000;
};

/// The inputs: transcript.json and chapters.json content (either may be a
/// skipped result), the session's name and length.
struct summary_inputs {
  nlohmann::json transcript;
  nlohmann::json chapters;
  std::string session_name;
  std::int64_t duration_ms = 0;
};

/// Chapter titles completed from speech: a chapter whose screen gave no
/// title gets the first words said in it; every chapter gets keywords
/// (its most frequent content words). @returns the chapters array.
nlohmann::json titled_chapters(const summary_inputs& in);

/// summary.json's content (docs/enrichment.md). A failing chat endpoint
/// falls back to the extractive summary and says why ("fallbackReason").
result<nlohmann::json> summarize(const summary_inputs& in, const summary_options& o, const cancel_token& cancel);

/// "m:ss" or "h:mm:ss".
std::string clock_text(std::int64_t ms);

}  // namespace postroll
