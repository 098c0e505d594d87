/* Whole-or-nothing output files; see output.h. */
#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_PENDING = 4, MAX_PATH = 4096 };
/* Temporaries not yet committed; read by the signal handler. */
static char pending[MAX_PENDING][MAX_PATH];
static volatile sig_atomic_t pendingUsed[MAX_PENDING];

int outputOpen(Output *o, const char *path) {
  memset(o, 0, sizeof *o);
  o->path = path;
  o->slot = -1;
  if (!strcmp(path, "-")) {
    o->f = stdout;
    return 0;
  }
  /* An existing target that is not a regular file (/dev/null, a FIFO, a
   * terminal) is written directly: renaming a temporary over it would
   * replace the device node with a file (root may do that to /dev/null). */
  struct stat st;
  if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      return -1;
    }
    if (!(o->f = fopen(path, "wb")))
      return -1;
    o->direct = true;
    return 0;
  }
  int slot = 0;
  while (slot < MAX_PENDING && pendingUsed[slot])
    ++slot;
  if (slot == MAX_PENDING || strlen(path) + 16 > MAX_PATH) {
    errno = ENAMETOOLONG;
    return -1;
  }
  snprintf(pending[slot], MAX_PATH, "%s.tmp.XXXXXX", path);
  /* Marked before the file exists, so that a signal arriving as mkstemp
   * returns still removes it. */
  pendingUsed[slot] = 1;
  int fd = mkstemp(pending[slot]);
  if (fd < 0) {
    int e = errno;
    pendingUsed[slot] = 0;
    errno = e;
    return -1;
  }
  o->slot = slot;
  o->f = fdopen(fd, "wb");
  if (!o->f) {
    int e = errno;
    close(fd);
    outputAbandon(o);
    errno = e;
    return -1;
  }
  return 0;
}

void outputWrite(MlirStringRef s, void *userData) {
  Output *o = userData;
  if (!o->failed && s.length && fwrite(s.data, 1, s.length, o->f) != s.length)
    o->failed = true;
}

void outputAbandon(Output *o) {
  if (o->direct && o->f) {
    fclose(o->f);
    o->f = NULL;
  }
  if (o->slot < 0)
    return;
  if (o->f)
    fclose(o->f);
  o->f = NULL;
  unlink(pending[o->slot]);
  pendingUsed[o->slot] = 0;
  o->slot = -1;
}

int outputCommit(Output *o) {
  if (o->slot < 0) {
    int bad = fflush(o->f) || o->failed;
    if (o->direct) {
      bad |= fclose(o->f) != 0;
      o->f = NULL;
    }
    if (bad) {
      errno = errno ? errno : EIO;
      return -1;
    }
    return 0;
  }
  int e = 0;
  if (o->failed || fflush(o->f) || ferror(o->f))
    e = errno ? errno : EIO;
  if (fclose(o->f) && !e)
    e = errno ? errno : EIO;
  o->f = NULL;
  if (!e) {
    /* mkstemp makes the file 0600; give it the usual mode. */
    mode_t mask = umask(0);
    umask(mask);
    chmod(pending[o->slot], 0666 & ~mask);
    if (rename(pending[o->slot], o->path))
      e = errno;
  }
  if (e) {
    unlink(pending[o->slot]);
    errno = e;
  }
  pendingUsed[o->slot] = 0;
  o->slot = -1;
  return e ? -1 : 0;
}

void outputAbandonFromSignal(void) {
  for (int i = 0; i < MAX_PENDING; ++i)
    if (pendingUsed[i])
      unlink(pending[i]);
}
