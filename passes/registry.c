/*
 * The table of clusterc passes (built from passes.inc) and, for each pass,
 * its creation from option text in pipeline syntax:
 *
 *   clustercCreateClusterWeightsPassFromString(
 *       mlirStringRefCreateFromCString("clusters=8 init=linear"), onError, ud)
 *
 * The text is what goes between the braces of `cluster-weights{...}`; it is
 * parsed by the pass's own option parser, the same one behind the driver's
 * flags and the mlir-opt plugin, so every entry point accepts the same text
 * and reports the same errors.
 */
#include "clusterc/passes.h"

#include <string.h>

/* Error text of a rejected option string; parser messages are short. */
enum { ERR_SIZE = 512 };

static void reportError(MlirStringCallback onError, void *userData,
                        const char *message) {
  if (onError)
    onError(mlirStringRefCreateFromCString(message), userData);
}

#define CLUSTERC_PASS(ARG, NAME, DESC)                                         \
  MlirPass clustercCreate##NAME##PassFromString(                               \
      MlirStringRef options, MlirStringCallback onError, void *userData) {     \
    Clusterc##NAME##Options o;                                                 \
    char err[ERR_SIZE];                                                        \
    MlirPass pass = {NULL};                                                    \
    clusterc##NAME##OptionsInit(&o);                                           \
    if (clusterc##NAME##OptionsParse(&o, options.data, options.length, err,    \
                                     sizeof err))                              \
      reportError(onError, userData, err);                                     \
    else if (!(pass = clustercCreate##NAME##Pass(&o)).ptr)                     \
      reportError(onError, userData, "out of memory");                         \
    clusterc##NAME##OptionsFree(&o);                                           \
    return pass;                                                               \
  }
#include "passes.inc"

static const ClustercPassInfo passes[] = {
#define CLUSTERC_PASS(ARG, NAME, DESC)                                         \
  {ARG, #NAME, DESC, clustercCreate##NAME##PassFromString},
#include "passes.inc"
};

intptr_t clustercGetNumPasses(void) {
  return (intptr_t)(sizeof passes / sizeof passes[0]);
}

const ClustercPassInfo *clustercGetPassInfo(intptr_t pos) {
  if (pos < 0 || pos >= clustercGetNumPasses())
    return NULL;
  return &passes[pos];
}

const ClustercPassInfo *clustercLookupPass(MlirStringRef argument) {
  for (intptr_t i = 0; i < clustercGetNumPasses(); ++i)
    if (strlen(passes[i].argument) == argument.length &&
        !memcmp(passes[i].argument, argument.data, argument.length))
      return &passes[i];
  return NULL;
}
