/* The output transaction of a clusterc run; see output.h.
 *
 * Invariants: outs[0..numOuts) are the open outputs; an output that is not
 * direct owns the temporary tmpName[i] in the directory tmpDir[i], and
 * tmpUsed[i] is set from before that file is created until after it is
 * gone or renamed, so the signal handler never misses one. */
#define _GNU_SOURCE /* O_DIRECTORY, O_CLOEXEC, linkat */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* MAX_OUTPUTS: an ONNX export writes a palettes folder of two or three
 * files per weight (389 for MobileNetV2), each an output of the run. The
 * tables are static because the signal handler reads them. */
enum { MAX_OUTPUTS = 4096, MAX_INPUTS = 16, MAX_HOPS = 40, NAME_LEN = 16 };

struct Output {
  FILE *f;
  char *path;      /* as given, for messages */
  const char *what;
  char *resolved;  /* the file written, absolute, symlinks resolved */
  char *base;      /* its name in dirFd */
  int dirFd;       /* its directory; -1 when direct */
  bool ownsDir;    /* dirFd is this output's (else an earlier output's, in
                      the same directory: one descriptor per directory) */
  bool direct;     /* written in place (stdout, a device, a FIFO) */
  bool exists;     /* the target existed when opened */
  bool failed;
  int error;       /* errno of the first failed write */
  dev_t dev;       /* identity of an existing target */
  ino_t ino;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

static Output outs[MAX_OUTPUTS];
static int numOuts;
static struct {
  dev_t dev;
  ino_t ino;
  char *path;
} inputs[MAX_INPUTS];
static int numInputs;

/* Read by the signal handler: temporaries, and the backups the commit
 * makes (kept, not removed, by a handler: the commit defers signals). */
static volatile sig_atomic_t tmpUsed[MAX_OUTPUTS];
static int tmpDir[MAX_OUTPUTS];
static char tmpName[MAX_OUTPUTS][NAME_LEN];
static volatile sig_atomic_t committing, deferredSignal;
static bool (*signalHook)(int);

/* ---- Paths --------------------------------------------------------------- */

static char *joinPath(const char *dir, size_t dirLen, const char *name) {
  size_t n = strlen(name);
  char *p = malloc(dirLen + n + 2);
  if (!p)
    return NULL;
  memcpy(p, dir, dirLen);
  p[dirLen] = '/';
  memcpy(p + dirLen + 1, name, n + 1);
  return p;
}

/* Paths that name an open file of the process (/dev/stdout, /dev/fd/N,
 * /proc/self/fd/N): written in place through the path itself. */
static bool isSystemPath(const char *p) {
  return !strncmp(p, "/proc/", 6) || !strncmp(p, "/dev/fd/", 8) ||
         !strcmp(p, "/dev/stdout") || !strcmp(p, "/dev/stderr");
}

/* Follows path's symlinks to the file that is to be written; *direct when
 * the chain goes through an open file's name (/dev/stdout ->
 * /proc/self/fd/1 -> a pipe, or the file the shell opened: written in
 * place). Returns a
 * malloc'd path, or NULL with errno. */
static char *followLinks(const char *path, bool *direct) {
  char *cur = strdup(path);
  *direct = false;
  for (int hops = 0; cur; ++hops) {
    if (isSystemPath(cur))
      *direct = true;
    struct stat st;
    if (lstat(cur, &st) || !S_ISLNK(st.st_mode))
      return cur;
    if (hops == MAX_HOPS) {
      free(cur);
      errno = ELOOP;
      return NULL;
    }
    char link[PATH_MAX];
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0) {
      free(cur);
      return NULL;
    }
    link[n] = 0;
    char *next;
    if (link[0] == '/' || !strchr(cur, '/')) {
      next = strdup(link);
    } else {
      next = joinPath(cur, (size_t)(strrchr(cur, '/') - cur), link);
    }
    free(cur);
    cur = next;
  }
  errno = ENOMEM;
  return NULL;
}

/* Splits path into its directory (opened) and its name; sets o->resolved
 * to realpath(dir) + "/" + name. */
static int openDir(Output *o, const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
    errno = EISDIR;
    return -1;
  }
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  char *real = dir ? realpath(dir, NULL) : NULL;
  free(dir);
  if (!real)
    return -1;
  size_t dirLen = strcmp(real, "/") ? strlen(real) : 0;
  o->base = strdup(base);
  o->resolved = joinPath(real, dirLen, base);
  /* An earlier output in the same directory lends its descriptor: a
   * palettes folder of hundreds of files takes one. */
  for (int i = 0; i < numOuts && o->dirFd < 0; ++i) {
    const char *r = outs[i].resolved;
    if (outs[i].ownsDir && r && !strncmp(r, real, dirLen) && r[dirLen] == '/' &&
        !strchr(r + dirLen + 1, '/'))
      o->dirFd = outs[i].dirFd;
  }
  if (o->dirFd < 0) {
    o->dirFd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    o->ownsDir = o->dirFd >= 0;
  }
  free(real);
  if (o->dirFd < 0)
    return -1;
  if (!o->base || !o->resolved) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

/* ---- Temporaries ----------------------------------------------------------- */

/* Creates ".cc.XXXXXX" in dirFd (O_EXCL; 0600 until the commit sets the
 * mode) in slot i. */
static int createTemp(int i, int dirFd) {
  static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  static uint64_t counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  for (int attempt = 0; attempt < 100; ++attempt) {
    uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u ^ (uint64_t)getpid() << 20 ^
                 ++counter * 0xBF58476D1CE4E5B9u;
    char name[NAME_LEN] = ".cc.";
    for (int k = 0; k < 6; ++k, x /= 36)
      name[4 + k] = digits[x % 36];
    name[10] = 0;
    tmpUsed[i] = 0;
    memcpy(tmpName[i], name, sizeof name);
    tmpDir[i] = dirFd;
    /* Marked before the file exists: a signal as openat returns still
     * removes it. */
    tmpUsed[i] = 1;
    int fd = openat(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
      return fd;
    tmpUsed[i] = 0;
    if (errno != EEXIST)
      return -1;
  }
  errno = EEXIST;
  return -1;
}

static void dropTemp(int i) {
  if (tmpUsed[i]) {
    unlinkat(tmpDir[i], tmpName[i], 0);
    tmpUsed[i] = 0;
  }
}

/* Frees o; callers close the outputs that lend their directory last
 * (closeAll). */
static void closeOutput(Output *o) {
  if (o->f && o->f != stdout)
    fclose(o->f);
  if (o->dirFd >= 0 && o->ownsDir)
    close(o->dirFd);
  free(o->path);
  free(o->resolved);
  free(o->base);
  memset(o, 0, sizeof *o);
  o->dirFd = -1;
}

/* ---- Clashes ------------------------------------------------------------------ */

static bool isDevNull(dev_t dev, ino_t ino) {
  struct stat st;
  return !stat("/dev/null", &st) && st.st_dev == dev && st.st_ino == ino;
}

void outputAddInput(const char *path) {
  struct stat st;
  if (!path || numInputs == MAX_INPUTS)
    return;
  if (strcmp(path, "-") ? stat(path, &st) : fstat(STDIN_FILENO, &st))
    return;
  /* stdin and stdout on one terminal or pipe pair are not a clash. */
  if (!S_ISREG(st.st_mode))
    return;
  inputs[numInputs].dev = st.st_dev;
  inputs[numInputs].ino = st.st_ino;
  inputs[numInputs].path = strdup(path);
  ++numInputs;
}

static bool sameFile(const Output *a, const Output *b) {
  if (a->exists != b->exists)
    return false;
  if (a->exists)
    return a->dev == b->dev && a->ino == b->ino && !isDevNull(a->dev, a->ino);
  return a->resolved && b->resolved && !strcmp(a->resolved, b->resolved);
}

/* OUTPUT_CLASH with a message when o is an input or an earlier output. */
static int checkClash(const Output *o, char *err, size_t errSize) {
  for (int i = 0; o->exists && i < numInputs; ++i)
    if (inputs[i].dev == o->dev && inputs[i].ino == o->ino) {
      snprintf(err, errSize, "the %s '%s' is the input '%s' (clusterc never writes "
               "over an input)", o->what, o->path, inputs[i].path);
      return OUTPUT_CLASH;
    }
  for (int i = 0; i < numOuts; ++i)
    if (sameFile(&outs[i], o)) {
      snprintf(err, errSize, "the %s and the %s both go to '%s'", o->what,
               outs[i].what, o->path);
      return OUTPUT_CLASH;
    }
  return OUTPUT_OK;
}

/* ---- Opening ------------------------------------------------------------------- */

static int openTarget(Output *o, int slot, char *err, size_t errSize) {
  struct stat st;
  if (!strcmp(o->path, "-")) {
    o->direct = true;
    if (!fstat(STDOUT_FILENO, &st))
      o->exists = true, o->dev = st.st_dev, o->ino = st.st_ino;
    int rc = checkClash(o, err, errSize);
    o->f = stdout;
    return rc;
  }
  bool system;
  char *target = followLinks(o->path, &system);
  if (!target)
    return OUTPUT_IO;
  int rc = OUTPUT_IO;
  /* An open file's name: its identity is what the path opens. */
  if (!stat(system ? o->path : target, &st)) {
    o->exists = true;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    o->mode = st.st_mode & 07777;
    o->uid = st.st_uid;
    o->gid = st.st_gid;
    if (S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      goto done;
    }
    o->direct = system || !S_ISREG(st.st_mode);
  } else if (errno != ENOENT) {
    goto done;
  }
  if (system && !o->exists) {
    goto done; /* errno from stat */
  } else if (o->direct) {
    o->resolved = strdup(target);
  } else if (openDir(o, target)) {
    goto done;
  }
  if ((rc = checkClash(o, err, errSize)))
    goto done;
  rc = OUTPUT_IO;
  if (o->direct) {
    /* As the shell's '>': truncate a file reached through /dev/fd; no
     * effect on a device or a FIFO (whose open waits for a reader). */
    o->f = fopen(system ? o->path : target, "wb");
  } else {
    /* Not writable by us: refused as cp would, not silently replaced. */
    if (o->exists && faccessat(o->dirFd, o->base, W_OK, AT_EACCESS))
      goto done;
    int fd = createTemp(slot, o->dirFd);
    if (fd >= 0 && !(o->f = fdopen(fd, "wb"))) {
      close(fd);
      dropTemp(slot);
    }
  }
  if (o->f)
    rc = OUTPUT_OK;
done:
  free(target);
  return rc;
}

int outputOpen(Output **out, const char *path, const char *what, char *err,
               size_t errSize) {
  *out = NULL;
  if (numOuts == MAX_OUTPUTS) {
    errno = EMFILE;
    return OUTPUT_IO;
  }
  Output *o = &outs[numOuts];
  memset(o, 0, sizeof *o);
  o->dirFd = -1;
  o->what = what;
  o->path = strdup(path);
  if (!o->path) {
    errno = ENOMEM;
    return OUTPUT_IO;
  }
  int rc = openTarget(o, numOuts, err, errSize);
  if (rc) {
    int e = errno;
    dropTemp(numOuts);
    closeOutput(o);
    errno = e;
    return rc;
  }
  *out = o;
  ++numOuts;
  return OUTPUT_OK;
}

FILE *outputFile(Output *o) { return o->f; }
const char *outputPath(Output *o) { return o->path; }
const char *outputWhat(Output *o) { return o->what; }

void outputWriteBytes(Output *o, const void *data, size_t n) {
  if (!o->failed && n && !o->f) {
    o->failed = true; /* written after outputClose: a bug of the caller */
    o->error = EBADF;
  }
  if (!o->failed && n && fwrite(data, 1, n, o->f) != n) {
    o->failed = true;
    o->error = errno ? errno : EIO;
  }
}

/* ---- Commit ---------------------------------------------------------------------- */

/* Names of the backups, for putting the targets back. */
static char backup[MAX_OUTPUTS][NAME_LEN];
static bool haveBackup[MAX_OUTPUTS];

/* Flushes and closes o's stream (stdout stays open); 0 or an errno. Once
 * closed (outputClose), the error is remembered. */
static int finish(Output *o, int slot) {
  int e = o->failed ? o->error : 0;
  if (!o->f)
    return e;
  if (fflush(o->f) && !e)
    e = errno ? errno : EIO;
  if (ferror(o->f) && !e)
    e = EIO;
  if (!o->direct) {
    int fd = fileno(o->f);
    mode_t mode = o->mode;
    if (!o->exists) {
      mode_t mask = umask(0);
      umask(mask);
      mode = 0666 & ~mask;
    } else if (geteuid() == 0 && fchown(fd, o->uid, o->gid)) {
      /* keep root's ownership when the owner cannot be set */
    }
    if (fchmod(fd, mode) && !e)
      e = errno;
  }
  if (o->f != stdout && fclose(o->f) && !e)
    e = errno ? errno : EIO;
  o->f = NULL;
  (void)slot;
  if (e && !o->failed)
    o->failed = true, o->error = e;
  return e;
}

void outputClose(Output *o) {
  if (o->f)
    finish(o, (int)(o - outs));
}

int outputWriteWhole(const char *path, const char *what, const void *data,
                     size_t size, char *err, size_t errSize) {
  Output *o;
  int rc = outputOpen(&o, path, what, err, errSize);
  if (rc == OUTPUT_CLASH)
    errno = EEXIST;
  if (rc)
    return rc;
  outputWriteBytes(o, data, size);
  outputClose(o); /* no descriptor held per file until the commit */
  return OUTPUT_OK;
}

/* Removes every temporary and backup, then frees the outputs, those that
 * lend a directory descriptor last (in reverse order of opening). */
static void closeAll(void) {
  for (int i = 0; i < numOuts; ++i) {
    if (haveBackup[i])
      unlinkat(outs[i].dirFd, backup[i], 0);
    haveBackup[i] = false;
    dropTemp(i);
  }
  for (int i = numOuts; i-- > 0;)
    closeOutput(&outs[i]);
  numOuts = 0;
}

static void formatError(const Output *o, int e, char *err, size_t errSize) {
  snprintf(err, errSize, "%s: error: cannot write %s: %s", o->path, o->what, strerror(e));
}


static void raiseDeferred(void) {
  committing = 0;
  int sig = deferredSignal;
  if (sig) {
    deferredSignal = 0;
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

int outputCommitAll(char *err, size_t errSize) {
  committing = 1;
  int bad = -1, e = 0;
  for (int i = 0; i < numOuts; ++i) {
    int ei = finish(&outs[i], i);
    if (ei && bad < 0)
      bad = i, e = ei;
  }
  int renamed = 0, temps = 0;
  for (int i = 0; i < numOuts; ++i)
    temps += !outs[i].direct;
  for (int i = 0; bad < 0 && i < numOuts; ++i) {
    Output *o = &outs[i];
    haveBackup[i] = false;
    if (o->direct || !o->exists || temps < 2)
      continue;
    /* A hard link to the old target, for putting it back when a later
     * rename fails (a file system without hard links: no backup). */
    snprintf(backup[i], NAME_LEN, ".cc.b%04u%05u", (unsigned)i % 10000u,
             (unsigned)getpid() % 100000u);
    unlinkat(o->dirFd, backup[i], 0);
    haveBackup[i] = !linkat(o->dirFd, o->base, o->dirFd, backup[i], 0);
  }
  for (; bad < 0 && renamed < numOuts; ++renamed) {
    Output *o = &outs[renamed];
    if (o->direct)
      continue;
    if (renameat(tmpDir[renamed], tmpName[renamed], o->dirFd, o->base)) {
      bad = renamed, e = errno;
      break;
    }
    tmpUsed[renamed] = 0;
  }
  if (bad >= 0) {
    /* Put back what was renamed: the old file, or no file. */
    for (int i = 0; i < renamed && i < numOuts; ++i) {
      Output *o = &outs[i];
      if (o->direct)
        continue;
      if (haveBackup[i])
        renameat(o->dirFd, backup[i], o->dirFd, o->base), haveBackup[i] = false;
      else if (!o->exists)
        unlinkat(o->dirFd, o->base, 0);
    }
    formatError(&outs[bad], e, err, errSize);
  }
  closeAll();
  raiseDeferred();
  return bad >= 0 ? -1 : 0;
}

void outputAbandonAll(void) {
  closeAll();
}

/* ---- Signals ----------------------------------------------------------------------- */

void outputAbandonFromSignal(void) {
  for (int i = 0; i < MAX_OUTPUTS; ++i)
    if (tmpUsed[i])
      unlinkat(tmpDir[i], tmpName[i], 0);
}

static void onSignal(int sig) {
  if (signalHook && signalHook(sig))
    return;
  if (committing) {
    deferredSignal = sig;
    return;
  }
  outputAbandonFromSignal();
  signal(sig, SIG_DFL);
  raise(sig);
}

void outputCatchSignals(bool (*hook)(int sig)) {
  static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGPIPE,
                             SIGXFSZ, SIGALRM, SIGUSR1, SIGUSR2};
  signalHook = hook;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i) {
    if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_IGN)
      continue;
    sigaction(sigs[i], &sa, NULL);
  }
}
