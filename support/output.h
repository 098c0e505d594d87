/*
 * The files one clusterc run writes (the model, an object, a C header, the
 * JSON report, the training log, ONNX exports) as one transaction:
 *
 *  - Each output is written to a temporary file with a short name
 *    (".cc.XXXXXX") in its target's directory, so that a valid 255-byte
 *    file name never becomes an invalid temporary name, and renamed over
 *    the target only by outputCommitAll, once every output of the run is
 *    complete. If one of them fails (a full disk, a rename refused), the
 *    targets already renamed are put back from hard-link backups and the
 *    rest are removed: every existing file is left as it was.
 *  - A symlink is written through: the temporary goes beside the file it
 *    points to (after the whole chain), and that file is replaced; the link
 *    stays a link.
 *  - Special files (stdout as "-", /dev/stdout and anything else under
 *    /dev or /proc, FIFOs, character devices, /dev/null) are written in
 *    place, never replaced: a rename over /dev/null, run as root, replaced
 *    the machine's /dev/null.
 *  - The mode (and, for root, the owner) of an existing target is kept; a
 *    new one gets 0666 & ~umask.
 *  - No output may be an input (outputAddInput) or another output: the
 *    files are compared by device and inode, and a file that does not exist
 *    yet by its resolved path (realpath of its directory, plus its name),
 *    so "out/../out/x.o" and "./x.o" are caught too. /dev/null is exempt.
 *  - outputCatchSignals removes the temporaries on every catchable signal
 *    that would end the process (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
 *    SIGXFSZ, SIGALRM, SIGUSR1, SIGUSR2): the handler only unlinks names
 *    kept in a fixed table, relative to directory descriptors
 *    (async-signal-safe), then dies of the signal. A signal during the
 *    commit waits for it to finish.
 *
 * One run at a time per process (the table is global): the driver and the
 * tools around the libraries use it, never the libraries themselves.
 */
#ifndef CLUSTERC_OUTPUT_H
#define CLUSTERC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct Output Output;

enum {
  OUTPUT_OK = 0,
  OUTPUT_IO = -1,    /* cannot create or write it: errno is set */
  OUTPUT_CLASH = -2, /* it is an input or another output: err says which */
};

/* Records a file the outputs must not replace (the model, the data, any
 * file read). A file that does not exist or is not regular is ignored;
 * "-" means stdin. */
void outputAddInput(const char *path);

/* Opens path ("-" = stdout) for writing as part of the run; what names it
 * in messages ("output", "report", "header", "log", ...). Returns
 * OUTPUT_OK with *out set, or OUTPUT_IO (errno) or OUTPUT_CLASH (a message
 * in err). */
int outputOpen(Output **out, const char *path, const char *what, char *err,
               size_t errSize);

FILE *outputFile(Output *o);
const char *outputPath(Output *o);
const char *outputWhat(Output *o);
/* Appends bytes; an error is remembered and reported by the commit. */
void outputWriteBytes(Output *o, const void *data, size_t n);
/* Done writing o: its stream is flushed and closed now rather than at the
 * commit (an error is remembered and reported by the commit), so that a
 * run of many whole files (a palettes folder) holds no descriptor for
 * each. The target is still replaced only by the commit. */
void outputClose(Output *o);
/* One whole file of the run (a palette of an ONNX export, of which there
 * may be hundreds): outputOpen, the bytes, outputClose. Returns
 * outputOpen's status, with errno set for OUTPUT_IO and EEXIST for
 * OUTPUT_CLASH (a message in err); a write error is reported by the
 * commit. */
int outputWriteWhole(const char *path, const char *what, const void *data,
                     size_t size, char *err, size_t errSize);

/* Completes every open output: temporaries renamed over their targets,
 * special files flushed. Returns 0, or -1 with
 * "PATH: error: cannot write WHAT: REASON" in err and no target changed
 * (special files excepted: what was written to them is gone). Either way
 * no output remains open. */
int outputCommitAll(char *err, size_t errSize);
/* Removes every temporary; targets are left as they were. */
void outputAbandonAll(void);

/* Installs the handlers of the signals listed above (a signal ignored at
 * start, as nohup does for SIGHUP, stays ignored). hook, when not NULL,
 * runs first and returns true when it handled the signal (the process
 * then carries on). */
void outputCatchSignals(bool (*hook)(int sig));
/* Async-signal-safe: unlinks every temporary (for crash handlers). */
void outputAbandonFromSignal(void);

#endif
