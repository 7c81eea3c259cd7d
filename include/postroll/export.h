/* Symbol visibility: libpostroll is built with hidden visibility; only
 * what is marked POSTROLL_API is exported (the public C and C++ API). */
#ifndef POSTROLL_EXPORT_H
#define POSTROLL_EXPORT_H

#if defined(_WIN32)
#define POSTROLL_API
#else
#define POSTROLL_API __attribute__((visibility("default")))
#endif

#endif /* POSTROLL_EXPORT_H */
