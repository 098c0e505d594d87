/*
 * The runtime's threads: a small pool of persistent workers that split
 * one call's work (rt_parallel), used by the float GEMM driver so that one
 * large contraction of a compiled model runs on several cores.
 *
 * clusterrt_set_threads(n) sets how many threads a call may use (default
 * 1, or CLUSTERRT_THREADS from the environment). Workers are started on
 * first use and sleep on a condition variable between calls. One parallel
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
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { POOL_MAX = 64 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static pthread_t workers[POOL_MAX];
static int started;            /* workers running */
static atomic_int wanted = 1;  /* threads per call (caller included) */
static atomic_int configured;  /* wanted was set (by the API or the environment) */
static unsigned long generation; /* bumped per job; workers wait for a new one */
static int quitting;
static atomic_flag busy = ATOMIC_FLAG_INIT; /* a job is running */

/* The current job (written under mu before generation is bumped). */
static rt_task_fn jobFn;
static void *jobCtx;
static size_t jobParts;
static int jobHelpers;          /* workers that take part */
static atomic_size_t jobNext;   /* next part to hand out */
static int jobActive;           /* helpers still inside the job */

static void runParts(rt_task_fn fn, void *ctx, size_t parts) {
  for (size_t p; (p = atomic_fetch_add(&jobNext, 1)) < parts;) fn(ctx, p);
}

static void *workerMain(void *arg) {
  int id = (int)(intptr_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (!quitting && (generation == seen || id >= jobHelpers))
      pthread_cond_wait(&wake, &mu);
    if (quitting) break;
    seen = generation;
    rt_task_fn fn = jobFn;
    void *ctx = jobCtx;
    size_t parts = jobParts;
    pthread_mutex_unlock(&mu);
    runParts(fn, ctx, parts);
    pthread_mutex_lock(&mu);
    if (--jobActive == 0) pthread_cond_signal(&idle);
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
  jobActive = 0;
  atomic_flag_clear(&busy);
}

static void registerFork(void) { pthread_atfork(NULL, NULL, resetInChild); }

void rt_parallel(size_t parts, rt_task_fn fn, void *ctx) {
  if (parts == 0) return;
  int helpers = 0;
  if (parts > 1 && !atomic_flag_test_and_set(&busy)) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, registerFork);
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
      jobActive = helpers;
      atomic_store(&jobNext, 0);
      generation++;
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
  pthread_mutex_lock(&mu);
  while (jobActive > 0) pthread_cond_wait(&idle, &mu);
  pthread_mutex_unlock(&mu);
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
