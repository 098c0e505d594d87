/*
 * The runtime's threads: a small pool of persistent workers that split
 * one call's work (rt_parallel), used by the float GEMM driver so that one
 * large contraction of a compiled model runs on several cores.
 *
 * clusterrt_set_threads(n) sets how many threads a call may use (default
 * 1, or CLUSTERRT_THREADS from the environment). Workers are started on
 * first use. Between calls a worker first spins for a while (watching the
 * job counter, with the CPU's pause hint), then sleeps on a condition
 * variable: a training step makes a parallel call every few hundred
 * microseconds, and waking a sleeping thread costs that much or more on a
 * VM whose idle vCPU the host has descheduled (milliseconds, measured in
 * ../shared/bench/peers: omp_wake), so a worker that slept would join each
 * product too late to take part. The caller likewise spins before it
 * sleeps waiting for the last helper. CLUSTERRT_SPIN_US sets the spin
 * (default 2000 microseconds; 0 sleeps at once, OMP_WAIT_POLICY=passive's
 * behaviour). One parallel
 * call runs at a time: a call made while another is running (another
 * thread of the program, or a nested call) runs its parts itself, in the
 * calling thread, so callers never wait for each other and nesting cannot
 * deadlock. Parts are handed out dynamically (an atomic counter), so a
 * slow vCPU takes fewer parts; which thread runs a part never changes what
 * the part computes, so results do not depend on the thread count.
 *
 * After fork() the child has no workers: a pthread_atfork handler resets
 * the pool, which starts again on the child's first parallel call. At
 * unload (library destructor) the workers are told to exit and joined.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpuRelax() _mm_pause()
#elif defined(__aarch64__)
#define cpuRelax() __asm__ __volatile__("yield")
#else
#define cpuRelax() ((void)0)
#endif

enum { POOL_MAX = 64 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static pthread_t workers[POOL_MAX];
static int started;            /* workers running */
static atomic_int wanted = 1;  /* threads per call (caller included) */
static atomic_int configured;  /* wanted was set (by the API or the environment) */
static atomic_ulong generation; /* bumped per job; workers wait for a new one */
static atomic_int quitting;
static long spinNs = 2000000;  /* how long a thread spins before it sleeps */
static atomic_flag busy = ATOMIC_FLAG_INIT; /* a job is running */

/* The current job (written under mu before generation is bumped). */
static rt_task_fn jobFn;
static void *jobCtx;
static size_t jobParts;
static int jobHelpers;          /* workers that take part */
static atomic_size_t jobNext;   /* next part to hand out */
static atomic_int jobActive;    /* helpers still inside the job */

static void runParts(rt_task_fn fn, void *ctx, size_t parts) {
  for (size_t p; (p = atomic_fetch_add(&jobNext, 1)) < parts;) fn(ctx, p);
}

static long nowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Spins until done(arg) or spinNs have passed; whether done. Every 64
 * pauses it reads the clock and yields: when the cores are oversubscribed
 * (another program busy, or more threads than cores) a pure spin takes
 * the time slices of the very thread it waits for (a two-thread ResNet-18
 * step went from 200 to 530 ms beside one busy process), where a yielding
 * one gives them up. */
static bool spinUntil(bool (*done)(const void *), const void *arg) {
  if (spinNs <= 0) return done(arg);
  long end = nowNs() + spinNs;
  for (unsigned i = 1;; i++) {
    if (done(arg)) return true;
    cpuRelax();
    if (!(i & 63)) {
      if (nowNs() > end) return done(arg);
      sched_yield();
    }
  }
}

static bool newJob(const void *seen) {
  return atomic_load_explicit(&generation, memory_order_acquire) != *(const unsigned long *)seen ||
         atomic_load_explicit(&quitting, memory_order_relaxed);
}

static bool helpersDone(const void *unused) {
  (void)unused;
  return atomic_load_explicit(&jobActive, memory_order_acquire) == 0;
}

static void *workerMain(void *arg) {
  int id = (int)(intptr_t)arg;
  unsigned long seen = 0;
  for (;;) {
    spinUntil(newJob, &seen);
    pthread_mutex_lock(&mu);
    while (!quitting && generation == seen)
      pthread_cond_wait(&wake, &mu);
    if (quitting) break;
    seen = generation;
    if (id >= jobHelpers) { /* not wanted in this job: wait for the next */
      pthread_mutex_unlock(&mu);
      continue;
    }
    rt_task_fn fn = jobFn;
    void *ctx = jobCtx;
    size_t parts = jobParts;
    pthread_mutex_unlock(&mu);
    runParts(fn, ctx, parts);
    if (atomic_fetch_sub_explicit(&jobActive, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&mu); /* the caller may be asleep on idle */
      pthread_cond_signal(&idle);
      pthread_mutex_unlock(&mu);
    }
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void configureFromEnv(void) {
  if (configured) return;
  configured = 1;
  const char *e = getenv("CLUSTERRT_THREADS");
  if (e && *e) {
    char *end;
    long n = strtol(e, &end, 10);
    if (!*end && n >= 1) wanted = n > POOL_MAX ? POOL_MAX : (int)n;
  }
}

clusterrt_status clusterrt_set_threads(int n) {
  if (n < 1) return CLUSTERRT_ERR_ARG;
  pthread_mutex_lock(&mu);
  configured = 1;
  wanted = n > POOL_MAX ? POOL_MAX : n;
  pthread_mutex_unlock(&mu);
  return CLUSTERRT_OK;
}

int rt_threads(void) {
  if (!atomic_load(&configured)) {
    pthread_mutex_lock(&mu);
    configureFromEnv();
    pthread_mutex_unlock(&mu);
  }
  return atomic_load(&wanted);
}

int clusterrt_get_threads(void) { return rt_threads(); }

static void resetInChild(void) {
  /* Only the forking thread exists in the child: the workers are gone. */
  pthread_mutex_init(&mu, NULL);
  pthread_cond_init(&wake, NULL);
  pthread_cond_init(&idle, NULL);
  started = 0;
  atomic_store(&jobActive, 0);
  atomic_flag_clear(&busy);
}

/* Once per process, before the first worker starts: the fork handler and
 * CLUSTERRT_SPIN_US (microseconds, at most a second). */
static void setUp(void) {
  pthread_atfork(NULL, NULL, resetInChild);
  const char *e = getenv("CLUSTERRT_SPIN_US");
  if (e && *e) {
    char *end;
    long us = strtol(e, &end, 10);
    if (!*end && us >= 0) spinNs = us > 1000000 ? 1000000000L : us * 1000L;
  }
}

void rt_parallel(size_t parts, rt_task_fn fn, void *ctx) {
  if (parts == 0) return;
  int helpers = 0;
  if (parts > 1 && !atomic_flag_test_and_set(&busy)) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, setUp);
    pthread_mutex_lock(&mu);
    configureFromEnv();
    helpers = wanted - 1;
    if ((size_t)helpers > parts - 1) helpers = (int)(parts - 1);
    while (started < helpers &&
           !pthread_create(&workers[started], NULL, workerMain, (void *)(intptr_t)started))
      started++;
    if (helpers > started) helpers = started;
    if (helpers > 0) {
      jobFn = fn, jobCtx = ctx, jobParts = parts, jobHelpers = helpers;
      atomic_store(&jobActive, helpers);
      atomic_store(&jobNext, 0);
      atomic_fetch_add_explicit(&generation, 1, memory_order_release);
      pthread_cond_broadcast(&wake);
    }
    pthread_mutex_unlock(&mu);
    if (helpers == 0) atomic_flag_clear(&busy);
  }
  if (helpers == 0) {
    for (size_t p = 0; p < parts; p++) fn(ctx, p);
    return;
  }
  runParts(fn, ctx, parts);
  if (!spinUntil(helpersDone, NULL)) {
    pthread_mutex_lock(&mu);
    while (atomic_load(&jobActive) > 0) pthread_cond_wait(&idle, &mu);
    pthread_mutex_unlock(&mu);
  }
  atomic_flag_clear(&busy);
}

__attribute__((destructor)) static void stopWorkers(void) {
  pthread_mutex_lock(&mu);
  quitting = 1;
  int n = started;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n; i++) pthread_join(workers[i], NULL);
  pthread_mutex_lock(&mu);
  started = 0;
  quitting = 0;
  pthread_mutex_unlock(&mu);
}
