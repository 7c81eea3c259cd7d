#include "enrichment/transcript/transcriber.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "pipelines/audio_samples.hpp"  // analysis_rate: what the pieces hold

namespace postroll {

struct transcriber::impl {
  transcriber_options o;
  const cancel_token& cancel;
  std::vector<speech_recognizer> decoders;
  std::vector<std::thread> threads;
  mutable std::mutex mtx;
  std::condition_variable cv;
  struct queued {
    std::size_t index = 0;
    speech_piece piece;
    std::string key;  // of its bias: pieces of one key go to one decoder when they can
    vocabulary_bias bias;
    std::string cache_key;  // "" without a cache
  };
  std::deque<queued> queue;
  std::map<std::size_t, std::vector<recognized_word>> done;  // by piece index
  std::size_t next_index = 0;
  bool closed = false;
  std::atomic<std::int64_t> samples_done{0};
  std::int64_t samples_added = 0;
  std::size_t running = 0;  // worker threads not yet returned
  std::size_t cached = 0;   // pieces the cache had

  impl(const transcriber_options& opts, const cancel_token& c) : o(opts), cancel(c) {}

  void work(speech_recognizer& decoder) {
    std::string current_key;
    for (;;) {
      queued item;
      {
        std::unique_lock<std::mutex> lock{mtx};
        cv.wait(lock, [&] { return closed || !queue.empty(); });
        if (queue.empty()) {
          --running;
          lock.unlock();
          cv.notify_all();
          return;
        }
        // A piece with this decoder's bias first: each new bias rebuilds
        // the screen model (an ARPA file read back) in the decoder's set.
        auto it = std::find_if(queue.begin(), queue.end(), [&](const queued& q) { return q.key == current_key; });
        if (it == queue.end())
          it = queue.begin();
        item = std::move(*it);
        queue.erase(it);
      }
      cv.notify_all();
      auto& piece = item.piece;
      auto start_ms = piece.first_sample * 1000 / analysis_rate;
      if (o.bias_for) {
        if (item.key != current_key) {
          decoder.set_bias(item.bias);
          current_key = item.key;
        }
      }
      std::vector<recognized_word> words;
      if (!cancel.is_cancelled())
        words = decoder.recognize(piece.samples.data(), piece.samples.size(), start_ms, &cancel);
      if (o.cache && !item.cache_key.empty() && !cancel.is_cancelled())
        o.cache->store(item.cache_key, words);
      samples_done += std::int64_t(piece.samples.size());
      {
        std::lock_guard<std::mutex> guard{mtx};
        done[item.index] = std::move(words);
      }
    }
  }
};

transcriber::transcriber(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

transcriber::~transcriber() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->closed = true;
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
}

result<std::unique_ptr<transcriber>> transcriber::open(const transcriber_options& o, const cancel_token& cancel) {
  int n = o.threads > 0 ? o.threads : int(std::thread::hardware_concurrency());
  n = std::clamp(n, 1, 8);
  auto p = std::make_unique<impl>(o, cancel);
  // One after another (~0.3 s each): pocketsphinx's loading is not thread-safe.
  for (int i = 0; i < n; ++i) {
    auto d = speech_recognizer::open(o.asr);
    if (!d)
      return d.err();
    p->decoders.push_back(std::move(*d));
  }
  auto* raw = p.get();
  p->running = p->decoders.size();
  for (auto& d : p->decoders)
    p->threads.emplace_back([raw, &d] { raw->work(d); });
  return std::unique_ptr<transcriber>{new transcriber{std::move(p)}};
}

void transcriber::add(speech_piece&& piece) {
  auto& s = *impl_;
  std::unique_lock<std::mutex> lock{s.mtx};
  // The bias is worked out once, here: its key picks the decoder.
  std::string key;
  vocabulary_bias bias;
  if (s.o.bias_for) {
    auto start_ms = piece.first_sample * 1000 / analysis_rate;
    bias = s.o.bias_for(start_ms, start_ms + std::int64_t(piece.samples.size()) * 1000 / analysis_rate, key);
  }
  std::string cache_key;
  if (s.o.cache) {
    cache_key = s.o.cache->key_of(piece, bias);
    if (auto words = s.o.cache->find(cache_key)) {
      s.samples_added += std::int64_t(piece.samples.size());
      s.samples_done += std::int64_t(piece.samples.size());
      s.done[s.next_index++] = std::move(*words);
      ++s.cached;
      return;
    }
  }
  // Room for a few pieces per decoder (~1 MB each), so each can find more
  // of its chapter.
  while (s.queue.size() >= 6 * s.decoders.size() && !s.cancel.is_cancelled()) {
    s.cv.wait_for(lock, std::chrono::milliseconds(100));
    if (s.o.on_wait) {
      lock.unlock();
      s.o.on_wait();
      lock.lock();
    }
  }
  s.samples_added += std::int64_t(piece.samples.size());
  s.queue.push_back({s.next_index++, std::move(piece), std::move(key), std::move(bias), std::move(cache_key)});
  lock.unlock();
  s.cv.notify_all();
}

std::int64_t transcriber::samples_done() const { return impl_->samples_done.load(); }
std::int64_t transcriber::samples_added() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->samples_added;
}
std::size_t transcriber::cached_pieces() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->cached;
}
int transcriber::threads() const { return int(impl_->decoders.size()); }

result<std::vector<recognized_word>> transcriber::finish() {
  auto& s = *impl_;
  {
    std::unique_lock<std::mutex> lock{s.mtx};
    s.closed = true;
    s.cv.notify_all();
    while (s.running > 0) {
      s.cv.wait_for(lock, std::chrono::milliseconds(100));
      if (s.o.on_wait) {
        lock.unlock();
        s.o.on_wait();
        lock.lock();
      }
    }
  }
  for (auto& t : s.threads)
    t.join();
  s.threads.clear();
  if (s.cancel.is_cancelled())
    return error{errc::cancelled, "cancelled"};
  std::vector<recognized_word> words;
  for (auto& [index, piece_words] : s.done)
    for (auto& w : piece_words)
      words.push_back(std::move(w));
  // Pieces do not overlap, so their order is time order; a stable sort
  // keeps it so should a decoder ever report a word out of order.
  std::stable_sort(words.begin(), words.end(),
                   [](const recognized_word& a, const recognized_word& b) { return a.start_ms < b.start_ms; });
  return words;
}

}  // namespace postroll
