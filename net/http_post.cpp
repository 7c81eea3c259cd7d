#include "net/http_post.hpp"

#include <mutex>

#include <curl/curl.h>

namespace postroll {

namespace {
std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() > 64u << 20)
    return 0;  // more than 64 MB: not an answer we want
  s->append(data, size * n);
  return size * n;
}

int check_cancel(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* c = static_cast<const std::atomic<bool>*>(flag);
  return c && c->load() ? 1 : 0;
}
}  // namespace

result<http_response> http_post(const std::string& url, const std::string& body,
                                const std::vector<std::string>& headers, long timeout_ms,
                                const std::atomic<bool>* cancel) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl)
    return error{errc::internal, "HTTP: cannot start a request"};
  curl_slist* list = nullptr;
  for (const auto& h : headers)
    list = curl_slist_append(list, h.c_str());
  http_response r;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancel);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
  auto code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (code == CURLE_ABORTED_BY_CALLBACK)
    return error{errc::cancelled, "cancelled"};
  if (code != CURLE_OK)
    // The URL is named (no credentials belong in it); headers never are.
    return error{errc::unavailable, "HTTP POST " + url + ": " + curl_easy_strerror(code)};
  return r;
}

}  // namespace postroll
