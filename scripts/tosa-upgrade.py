#!/usr/bin/env python3
"""Upgrades TOSA 0.x text (what MLIR 19 parses) to TOSA 1.0 text (what MLIR 22
parses), computing the same function.

  tosa-upgrade.py [--keep-lines] [FILE|-] [-o OUT]

MLIR 22 parses neither 0.x nor 1.0 text of the other version, and the
project's tests and examples are written in 0.x. This is a line-based text
rewriter (Python standard library only, no MLIR needed): every line that is
not a TOSA op -- func, arith, linalg, tensor, comments, `// RUN:` and
`// CHECK` lines, resource blobs -- is copied unchanged, so a whole lit test
file can be upgraded. A TOSA op must fit on one line (pretty or generic
form); it is parsed, and either copied (its syntax did not change), or
rewritten:

  tosa.const             `value` -> `values`
  conv2d, depthwise_conv2d, transpose_conv2d
                         + input_zp, weight_zp operands (tosa.const scalars,
                         from quantization_info or 0), + acc_type;
                         transpose_conv2d loses out_shape
  conv2d, depthwise_conv2d, avg_pool2d, max_pool2d
                         0.x rounded the output size down, 1.0 wants the
                         window to fit exactly: the input rows/columns no
                         output reads come off pad_bottom/pad_right, or off
                         the input (tosa.slice)
  fully_connected        (gone in 1.0) as TFLite's 1.0 legalization writes it:
                         reshape input to Nx1x1xIC, weight to OCx1x1xIC (the
                         weight tosa.const reaches the conv through
                         tosa.reshape), conv2d 1x1, reshape to NxOC under the
                         original result name
  matmul                 + a_zp, b_zp operands
  avg_pool2d             + input_zp, output_zp operands
  reshape                new_shape attribute -> !tosa.shape operand
                         (tosa.const_shape)
  clamp                  min_fp/max_fp/min_int/max_int -> min_val/max_val of
                         the element type
  mul                    shift attribute -> tensor<1xi8> operand
  transpose              perms operand (a tosa.const earlier in the file)
                         -> perms attribute
  reduce_prod, int_div   renamed reduce_product, intdiv
  quantized tensors      (!quant.uniform element types) zero points and
                         acc_type are of the storage type (i8 -> i8, i32)

e.g.  %y = tosa.reshape %x {new_shape = array<i64: 2, 6>} : (tensor<12xf32>) -> tensor<2x6xf32>
 ->   %__tu0 = tosa.const_shape {values = dense<[2, 6]> : tensor<2xindex>} : () -> !tosa.shape<2>
      %y = tosa.reshape %x, %__tu0 : (tensor<12xf32>, !tosa.shape<2>) -> tensor<2x6xf32>

New values are named %__tu<N> (another prefix if the input uses that one)
and inserted right before their op, with its indentation and loc(...).
With --keep-lines they go on the op's own line, before it: every line keeps
its number, so diagnostics and locations (file:line:col) of the upgraded
file name the lines of the original one (lit's [[@LINE]] checks; only the
columns on a converted op's line move).
An op or attribute this script does not know, or a form it cannot convert,
is an error `file:line: error: ...` and exit status 1 with no output: a
silent wrong conversion is worse than none.
"""
import argparse
import re
import sys


class UpgradeError(Exception):
    pass


# ---------------------------------------------------------------------------
# Scanning: balanced groups, strings, top-level splits.

_OPEN = {"(": ")", "[": "]", "{": "}", "<": ">"}


def skip_string(s, i):
    """s[i] is '"': returns the index after the closing quote."""
    j = i + 1
    while True:
        k = s.find('"', j)
        if k < 0:
            raise UpgradeError("unterminated string")
        b = k - 1
        n = 0
        while b > i and s[b] == "\\":
            n += 1
            b -= 1
        if n % 2 == 0:
            return k + 1
        j = k + 1


def skip_group(s, i):
    """s[i] opens a group; returns the index after its closing bracket.
    '->' is an arrow, not a closing '>'."""
    stack = [_OPEN[s[i]]]
    j = i + 1
    n = len(s)
    while j < n:
        c = s[j]
        if c == '"':
            j = skip_string(s, j)
            continue
        if c == "-" and j + 1 < n and s[j + 1] == ">":
            j += 2
            continue
        if c in _OPEN:
            stack.append(_OPEN[c])
        elif c == stack[-1]:
            stack.pop()
            if not stack:
                return j + 1
        elif c in ")]}":
            raise UpgradeError("unbalanced '%s'" % c)
        j += 1
    raise UpgradeError("unbalanced brackets (an op spanning several lines is not supported)")


def split_top(s, sep=","):
    """Splits s at top-level separators (outside brackets and strings)."""
    out = []
    depth = 0
    start = 0
    j = 0
    n = len(s)
    while j < n:
        c = s[j]
        if c == '"':
            j = skip_string(s, j)
            continue
        if c == "-" and j + 1 < n and s[j + 1] == ">":
            j += 2
            continue
        if c in _OPEN:
            depth += 1
        elif c in ")]}>":
            depth -= 1
        elif c == sep and depth == 0:
            out.append(s[start:j].strip())
            start = j + 1
        j += 1
    last = s[start:].strip()
    if last or out:
        out.append(last)
    return out


def split_comment(line):
    """(code, comment): a '//' outside strings starts a comment."""
    j = 0
    n = len(line)
    while j < n:
        k1 = line.find("//", j)
        k2 = line.find('"', j)
        if k1 < 0:
            return line, ""
        if k2 < 0 or k1 < k2:
            return line[:k1], line[k1:]
        j = skip_string(line, k2)
    return line, ""


# ---------------------------------------------------------------------------
# Types and attribute values.

_TENSOR = re.compile(r"^tensor<((?:(?:\?|\d+)x)*)([a-z][a-z0-9]*|!quant\.uniform<.*>)>$")
_QUANT_STORAGE = re.compile(r"^!quant\.uniform<([a-z][a-z0-9]*)(?:<[^>]*>)?:")


def storage(elt):
    """The storage type of a quantized element type ('!quant.uniform<i8:f32,
    0.5>' -> 'i8'), which 1.0 zero points and accumulators are typed by;
    other element types unchanged."""
    m = _QUANT_STORAGE.match(elt)
    if elt.startswith("!") and not m:
        raise UpgradeError("unsupported quantized type '%s'" % elt)
    return m.group(1) if m else elt


def parse_tensor(t):
    """'tensor<2x?x4xf32>' -> ([2, -1, 4], 'f32'); refuses other types."""
    m = _TENSOR.match(t.strip())
    if not m:
        raise UpgradeError("unsupported type '%s' (expected a ranked tensor without encoding)" % t)
    dims = [-1 if d == "?" else int(d) for d in m.group(1).split("x")[:-1]]
    return dims, m.group(2)


def tensor_type(dims, elt):
    return "tensor<%s%s>" % ("".join(("?" if d < 0 else str(d)) + "x" for d in dims), elt)


def parse_i64_array(v):
    m = re.match(r"^array<i(?:64|32)(?::\s*(.*))?>$", v.strip())
    if not m:
        raise UpgradeError("expected array<i64: ...>, got '%s'" % v)
    body = (m.group(1) or "").strip()
    return [int(x) for x in body.split(",")] if body else []


def parse_scalar_attr(v):
    """'6.0 : f32' / '0 : i64' / '6' -> the number text."""
    parts = split_top(v, ":")
    return parts[0].strip()


def parse_int_attr(v):
    try:
        return int(parse_scalar_attr(v), 0)
    except ValueError:
        raise UpgradeError("expected an integer attribute, got '%s'" % v)


def parse_quant(v, kind, fields):
    """'#tosa.conv_quant<input_zp = -128, weight_zp = 0>' -> {field: int}."""
    m = re.match(r"^#tosa\.%s<(.*)>$" % kind, v.strip())
    if not m:
        raise UpgradeError("unsupported quantization_info '%s' (expected #tosa.%s<...>)" % (v, kind))
    out = {}
    for part in split_top(m.group(1)):
        k, _, x = part.partition("=")
        k = k.strip()
        if k not in fields:
            raise UpgradeError("unknown field '%s' in quantization_info" % k)
        out[k] = int(x.strip())
    return out


def dense_ints(value, ty):
    """Integer values of a dense<...> constant of type ty."""
    dims, _ = parse_tensor(ty)
    n = 1
    for d in dims:
        n *= d
    m = re.match(r"^dense<(.*)>\s*:\s*tensor<.*>$", value.strip(), re.S)
    if not m:
        raise UpgradeError("expected a dense<...> constant, got '%s'" % value[:80])
    body = m.group(1).strip()
    try:
        if body.startswith("["):
            vals = [int(x) for x in re.findall(r"-?\d+", body)]
        else:
            vals = [int(body)] * n
    except ValueError:
        raise UpgradeError("expected integer values, got '%s'" % body[:80])
    if len(vals) != n:
        raise UpgradeError("constant has %d values for %d elements" % (len(vals), n))
    return vals


FLOAT_TYPES = ("f32", "f16", "bf16")
INT_BITS = {"i1": 1, "i8": 8, "i16": 16, "i32": 32, "i48": 48, "i64": 64}
# Accumulator of conv and matmul ops per input element type: what 0.x
# implied (19 accumulates f16 in f16), within what 1.0 allows.
ACC_TYPE = {"f32": "f32", "f16": "f16", "bf16": "f32", "i8": "i32", "i16": "i48"}
# Where rounding to the narrow float types reaches infinity (halfway between
# the largest finite value and the next power of two; ties go to the even
# infinity), and their infinities in hex.
FLOAT_LIMIT = {"f16": (65520.0, "0x7C00", "0xFC00"), "bf16": ((2 - 2 ** -8) * 2.0 ** 127, "0x7F80", "0xFF80")}


def zero_text(elt, value=0):
    if elt in FLOAT_TYPES:
        if value != 0:
            raise UpgradeError("non-zero zero point %d for a %s tensor" % (value, elt))
        return "0.000000e+00"
    if elt not in INT_BITS:
        raise UpgradeError("unsupported element type '%s' for a zero point" % elt)
    return str(value)


def float_bound(text, elt):
    """A 0.x clamp bound (given as f32) as a literal of element type elt."""
    if elt == "f32":
        return "%s : f32" % text
    try:
        v = float(text)
    except ValueError:
        raise UpgradeError("cannot read the float bound '%s'" % text)
    lim, pinf, ninf = FLOAT_LIMIT[elt]
    if v >= lim:
        return "%s : %s" % (pinf, elt)
    if v <= -lim:
        return "%s : %s" % (ninf, elt)
    return "%s : %s" % (text, elt)


# ---------------------------------------------------------------------------
# One op line.

_OPLINE = re.compile(r'^(\s*)((?:%[\w$.\-]+(?::\d+)?\s*,\s*)*%[\w$.\-]+(?::\d+)?)\s*=\s*("?)tosa\.(\w+)\3')
_OPLINE_NORESULT = re.compile(r'^(\s*)("?)tosa\.(\w+)\2')
_STRAY = re.compile(r'(?<![\w\-./])[#!]?"?tosa\.\w')
_VALUE = re.compile(r"%[\w$.\-]+(?:#\d+)?")


class Op:
    pass


def parse_op(code):
    """Parses one TOSA op line (pretty or generic form) into an Op, or
    returns None if the line is not a TOSA op."""
    m = _OPLINE.match(code)
    if m:
        indent, results, quoted, name = m.group(1), m.group(2), m.group(3), m.group(4)
        name_at = m.start(4)
    else:
        m = _OPLINE_NORESULT.match(code)
        if not m:
            return None
        indent, results, quoted, name = m.group(1), "", m.group(2), m.group(3)
        name_at = m.start(3)
    op = Op()
    op.code, op.name_at = code, name_at
    op.indent, op.name, op.generic = indent, name, bool(quoted)
    op.results = [r.strip() for r in results.split(",")] if results else []
    op.props, op.attrs = [], []
    s = code
    i = m.end()
    n = len(s)

    def ws(i):
        while i < n and s[i] in " \t":
            i += 1
        return i

    i = ws(i)
    if op.generic:
        if i >= n or s[i] != "(":
            raise UpgradeError("expected '(' after \"tosa.%s\"" % name)
        j = skip_group(s, i)
        op.operands = split_top(s[i + 1:j - 1])
        i = ws(j)
        if s.startswith("<{", i):
            j = skip_group(s, i)
            op.props = parse_attr_dict(s[i + 1:j - 1])
            i = ws(j)
    else:
        op.operands = []
        while i < n and s[i] == "%":
            mv = _VALUE.match(s, i)
            op.operands.append(mv.group(0))
            i = ws(mv.end())
            if i < n and s[i] == ",":
                i = ws(i + 1)
            else:
                break
    if i < n and s[i] == "{":
        j = skip_group(s, i)
        op.attrs = parse_attr_dict(s[i:j])
        i = ws(j)
    if i >= n or s[i] != ":":
        raise UpgradeError("cannot parse tosa.%s: expected ':' and the types (an op spanning several lines, "
                           "a region or an unknown form is not supported)" % name)
    i = ws(i + 1)
    # The types run up to a trailing loc(...), if any.
    rest = s[i:].rstrip()
    op.loc = ""
    k = rest.rfind(" loc(")
    if k >= 0 and rest.endswith(")"):
        try:
            if skip_group(rest, k + 4) == len(rest):
                op.loc = rest[k:]
                rest = rest[:k].rstrip()
        except UpgradeError:
            pass
    if rest.startswith("("):
        j = skip_group(rest, 0)
        op.in_types = split_top(rest[1:j - 1])
        tail = rest[j:].strip()
        if not tail.startswith("->"):
            raise UpgradeError("cannot parse the types of tosa.%s" % name)
        tail = tail[2:].strip()
        if tail.startswith("("):
            j = skip_group(tail, 0)
            if tail[j:].strip():
                raise UpgradeError("unexpected text after the types of tosa.%s" % name)
            op.out_types = split_top(tail[1:j - 1])
        else:
            op.out_types = [tail]
    else:
        # `tosa.const ... : tensor<...>`: the result type only.
        op.in_types = None
        op.out_types = [rest]
    for t in op.out_types:
        if not t or " " in t.replace(", ", ","):
            raise UpgradeError("cannot parse the types of tosa.%s" % name)
    return op


def parse_attr_dict(text):
    """'{a = 1, b}' or '{a = 1}' (text with braces) -> [(name, value)]."""
    text = text.strip()
    assert text[0] == "{" and text[-1] == "}"
    out = []
    for part in split_top(text[1:-1]):
        if not part:
            continue
        k, eq, v = part.partition("=")
        k = k.strip()
        if not re.match(r"^[\w.$]+$", k):
            raise UpgradeError("cannot parse attribute '%s'" % part[:80])
        out.append((k, v.strip() if eq else None))
    return out


# ---------------------------------------------------------------------------
# The conversion.

class Upgrader:
    def __init__(self, text, filename, keep_lines=False):
        self.filename = filename
        self.keep_lines = keep_lines
        self.prefix = "__tu"
        while ("%" + self.prefix) in text:
            self.prefix = "_" + self.prefix
        self.counter = 0
        # SSA name -> (value text, type) of the tosa.const seen so far. A name
        # defined again (in a later function) replaces the earlier one; uses
        # are always dominated by their definition, so the last textual one
        # before a use is the right one.
        self.consts = {}

    def fresh(self):
        name = "%%%s%d" % (self.prefix, self.counter)
        self.counter += 1
        return name

    def run(self, text):
        out = []
        for lineno, line in enumerate(text.splitlines(True), 1):
            if "tosa." not in line:
                out.append(line)
                continue
            body = line.rstrip("\r\n")
            eol = line[len(body):]
            try:
                if body.lstrip().startswith("//"):
                    out.append(line)
                    continue
                code, comment = split_comment(body)
                op = parse_op(code)
                if op is None:
                    if _STRAY.search(code):
                        raise UpgradeError("unsupported use of TOSA outside an op line: '%s'" % code.strip()[:80])
                    out.append(line)
                    continue
                new = self.convert(op)
            except UpgradeError as e:
                raise UpgradeError("%s:%d: error: %s" % (self.filename, lineno, e))
            if new is None:
                out.append(line)
                continue
            if comment:
                new[-1] += " " + comment
            if self.keep_lines:
                new = [new[0]] + [l.lstrip() for l in new[1:]]
                out.append("  ".join(new) + eol)
            else:
                out.extend(l + eol for l in new)
        return "".join(out)

    # -- helpers -----------------------------------------------------------

    def attrs_of(self, op, allowed):
        """Merged properties and attributes; unknown names are an error."""
        d = {}
        for k, v in op.props + op.attrs:
            if k not in allowed:
                raise UpgradeError("tosa.%s: unknown attribute '%s'" % (op.name, k))
            d[k] = v
        return d

    def check(self, op, n_in, n_out=1):
        if op.in_types is None or len(op.in_types) != len(op.operands):
            raise UpgradeError("tosa.%s: operand and type counts differ" % op.name)
        if n_in is not None and len(op.operands) != n_in:
            raise UpgradeError("tosa.%s: expected %d operands, got %d" % (op.name, n_in, len(op.operands)))
        if len(op.out_types) != n_out or len(op.results) != n_out:
            raise UpgradeError("tosa.%s: expected %d result(s)" % (op.name, n_out))

    def const(self, op, lines, value, ty):
        name = self.fresh()
        lines.append('%s%s = "tosa.const"() <{values = %s : %s}> : () -> %s%s'
                     % (op.indent, name, value, ty, ty, op.loc))
        return name

    def zp(self, op, lines, elt, value=0):
        elt = storage(elt)
        return self.const(op, lines, "dense<%s>" % zero_text(elt, value), "tensor<1x%s>" % elt)

    def shape(self, op, lines, dims):
        name = self.fresh()
        lines.append("%s%s = tosa.const_shape {values = dense<[%s]> : tensor<%dxindex>} : () -> !tosa.shape<%d>%s"
                     % (op.indent, name, ", ".join(str(d) for d in dims), len(dims), len(dims), op.loc))
        return name

    def emit(self, op, lines, result, name, operands, types, attrs, out_type):
        a = ""
        if attrs:
            a = " {" + ", ".join(k if v is None else "%s = %s" % (k, v) for k, v in attrs) + "}"
        lines.append("%s%s = tosa.%s %s%s : (%s) -> %s%s"
                     % (op.indent, result, name, ", ".join(operands), a, ", ".join(types), out_type, op.loc))

    def reshape(self, op, lines, value, in_type, dims, elt, result=None):
        s = self.shape(op, lines, dims)
        result = result or self.fresh()
        out = tensor_type(dims, elt)
        self.emit(op, lines, result, "reshape", [value, s], [in_type, "!tosa.shape<%d>" % len(dims)], [], out)
        return result, out

    # -- ops -----------------------------------------------------------------

    def convert(self, op):
        """The 1.0 lines for op, or None to keep its line as it is."""
        fn = getattr(self, "op_" + op.name, None)
        if fn is not None:
            return fn(op)
        if op.name in UNCHANGED or op.name in RENAMED:
            allowed, arity = UNCHANGED.get(op.name) or UNCHANGED[RENAMED[op.name]]
            self.attrs_of(op, allowed)
            n_out = len(op.results) if op.name == "custom" else 1
            self.check(op, arity, n_out)
            if op.name in SAME_RANK:
                ranks = set(len(parse_tensor(t)[0]) for t in op.in_types + op.out_types)
                if len(ranks) != 1:
                    raise UpgradeError("tosa.%s: operands of different ranks (1.0 needs equal ranks; "
                                       "not converted)" % op.name)
            if op.name in RENAMED:
                k = op.name_at
                return [(op.code[:k] + RENAMED[op.name] + op.code[k + len(op.name):]).rstrip()]
            return None
        raise UpgradeError("tosa.%s: op not supported by tosa-upgrade (no known 1.0 conversion)" % op.name)

    def op_const(self, op):
        # clusterc.palette: clusterc's mark on its own tables and indices, kept.
        a = self.attrs_of(op, ("value", "clusterc.palette"))
        if "value" not in a or op.operands or len(op.results) != 1 or len(op.out_types) != 1:
            raise UpgradeError("tosa.const: expected one result and a 'value' attribute")
        if op.in_types not in (None, []):
            raise UpgradeError("tosa.const: unexpected operand types")
        value = a["value"]
        ty = op.out_types[0]
        self.consts[op.results[0]] = (value, ty)
        mark = " {clusterc.palette = %s}" % a["clusterc.palette"] if "clusterc.palette" in a else ""
        return ['%s%s = "tosa.const"() <{values = %s}>%s : () -> %s%s'
                % (op.indent, op.results[0], value, mark, ty, op.loc)]

    def conv_zps(self, op, lines, a, in_elt, w_elt):
        q = {"input_zp": 0, "weight_zp": 0}
        if "quantization_info" in a:
            q.update(parse_quant(a["quantization_info"], "conv_quant", ("input_zp", "weight_zp")))
        if storage(in_elt) not in ACC_TYPE:
            raise UpgradeError("tosa.%s: unsupported input element type '%s'" % (op.name, in_elt))
        izp = self.zp(op, lines, in_elt, q["input_zp"])
        wzp = self.zp(op, lines, w_elt, q["weight_zp"])
        return izp, wzp, ACC_TYPE[storage(in_elt)]

    def fit_window(self, op, lines, a, kernel, dilation):
        """0.x sized a sliding-window op's output with floor(); 1.0 wants
        (H + pad_top + pad_bottom - effective kernel) divisible by the stride.
        The rows (columns) floor() dropped are read by no output: take them
        off pad_bottom (pad_right), then slice them off the input. Returns
        the input value, its type and the pad attribute text."""
        value, in_type = op.operands[0], op.in_types[0]
        dims, elt = parse_tensor(in_type)
        out, _ = parse_tensor(op.out_types[0])
        pad = parse_i64_array(a["pad"])
        stride = parse_i64_array(a["stride"])
        if len(dims) != 4 or len(out) != 4 or len(pad) != 4 or len(stride) != 2 or min(dims) < 0:
            raise UpgradeError("tosa.%s: expected static NHWC tensors, pad[4] and stride[2]" % op.name)
        new_pad = list(pad)
        cut = [0, 0]
        for ax in (0, 1):
            keff = (kernel[ax] - 1) * dilation[ax] + 1
            padded = dims[1 + ax] + pad[2 * ax] + pad[2 * ax + 1]
            if padded < keff or stride[ax] < 1:
                raise UpgradeError("tosa.%s: window larger than the padded input" % op.name)
            rem = (padded - keff) % stride[ax]
            o = (padded - keff) // stride[ax] + 1
            if out[1 + ax] >= 0 and out[1 + ax] != o:
                raise UpgradeError("tosa.%s: result type %s disagrees with the window arithmetic (%d)"
                                   % (op.name, op.out_types[0], o))
            d = min(new_pad[2 * ax + 1], rem)
            new_pad[2 * ax + 1] -= d
            cut[ax] = rem - d
        if any(cut):
            size = [dims[0], dims[1] - cut[0], dims[2] - cut[1], dims[3]]
            s0 = self.shape(op, lines, [0, 0, 0, 0])
            s1 = self.shape(op, lines, size)
            value, t = self.fresh(), tensor_type(size, elt)
            self.emit(op, lines, value, "slice", [op.operands[0], s0, s1],
                      [in_type, "!tosa.shape<4>", "!tosa.shape<4>"], [], t)
            in_type = t
        pad_text = a["pad"] if new_pad == pad else "array<i64: %s>" % ", ".join(str(p) for p in new_pad)
        return value, in_type, pad_text

    def op_conv2d(self, op, names=("pad", "stride", "dilation")):
        a = self.attrs_of(op, names + ("quantization_info", "local_bound"))
        self.check(op, 3)
        for k in names:
            if k not in a:
                raise UpgradeError("tosa.%s: missing attribute '%s'" % (op.name, k))
        _, in_elt = parse_tensor(op.in_types[0])
        wdims, w_elt = parse_tensor(op.in_types[1])
        lines = []
        x, xt = op.operands[0], op.in_types[0]
        attrs = {k: a[k] for k in names}
        if op.name != "transpose_conv2d":
            if len(wdims) != 4:
                raise UpgradeError("tosa.%s: expected a rank-4 weight" % op.name)
            kernel = wdims[1:3] if op.name == "conv2d" else wdims[0:2]
            x, xt, attrs["pad"] = self.fit_window(op, lines, a, kernel, parse_i64_array(a["dilation"]))
        izp, wzp, acc = self.conv_zps(op, lines, a, in_elt, w_elt)
        # The original attributes in their order, then acc_type.
        attrs["local_bound"] = a.get("local_bound")
        attrs = [(k, attrs[k]) for k, _ in op.props + op.attrs if k in names or k == "local_bound"]
        attrs.append(("acc_type", acc))
        self.emit(op, lines, op.results[0], op.name, [x] + op.operands[1:] + [izp, wzp],
                  [xt] + op.in_types[1:] + ["tensor<1x%s>" % storage(in_elt), "tensor<1x%s>" % storage(w_elt)], attrs, op.out_types[0])
        return lines

    def op_depthwise_conv2d(self, op):
        return self.op_conv2d(op)

    def op_transpose_conv2d(self, op):
        a = self.attrs_of(op, ("out_pad", "stride", "out_shape", "quantization_info", "local_bound"))
        self.check(op, 3)
        # 1.0 drops out_shape: the result type carries it. Refuse a
        # disagreement rather than guess which one 0.x meant.
        if "out_shape" in a:
            want = parse_i64_array(a["out_shape"])
            have, _ = parse_tensor(op.out_types[0])
            if len(want) != len(have) or any(w not in (-1, h) and h != -1 for w, h in zip(want, have)):
                raise UpgradeError("tosa.transpose_conv2d: out_shape %s disagrees with the result type %s"
                                   % (want, op.out_types[0]))
        op.props = [(k, v) for k, v in op.props if k != "out_shape"]
        op.attrs = [(k, v) for k, v in op.attrs if k != "out_shape"]
        return self.op_conv2d(op, names=("out_pad", "stride"))

    def op_fully_connected(self, op):
        a = self.attrs_of(op, ("quantization_info",))
        self.check(op, 3)
        (n, ic), in_elt = self.rank2(op, op.in_types[0])
        (oc, ic2), w_elt = self.rank2(op, op.in_types[1])
        (n2, oc2), out_elt = self.rank2(op, op.out_types[0])
        if ic != ic2 or oc != oc2 or n != n2 or min(n, ic, oc) < 0:
            raise UpgradeError("tosa.fully_connected: shapes must be static and agree")
        lines = []
        x4, x4t = self.reshape(op, lines, op.operands[0], op.in_types[0], [n, 1, 1, ic], in_elt)
        w4, w4t = self.reshape(op, lines, op.operands[1], op.in_types[1], [oc, 1, 1, ic], w_elt)
        izp, wzp, acc = self.conv_zps(op, lines, a, in_elt, w_elt)
        c = self.fresh()
        ct = tensor_type([n, 1, 1, oc], out_elt)
        self.emit(op, lines, c, "conv2d", [x4, w4, op.operands[2], izp, wzp],
                  [x4t, w4t, op.in_types[2], "tensor<1x%s>" % storage(in_elt), "tensor<1x%s>" % storage(w_elt)],
                  [("acc_type", acc), ("dilation", "array<i64: 1, 1>"), ("pad", "array<i64: 0, 0, 0, 0>"),
                   ("stride", "array<i64: 1, 1>")], ct)
        self.reshape(op, lines, c, ct, [n, oc], out_elt, result=op.results[0])
        return lines

    def rank2(self, op, t):
        dims, elt = parse_tensor(t)
        if len(dims) != 2:
            raise UpgradeError("tosa.%s: expected a rank-2 tensor, got %s" % (op.name, t))
        return dims, elt

    def op_matmul(self, op):
        a = self.attrs_of(op, ("quantization_info",))
        self.check(op, 2)
        q = {"a_zp": 0, "b_zp": 0}
        if "quantization_info" in a:
            q.update(parse_quant(a["quantization_info"], "matmul_quant", ("a_zp", "b_zp")))
        _, ae = parse_tensor(op.in_types[0])
        _, be = parse_tensor(op.in_types[1])
        lines = []
        azp = self.zp(op, lines, ae, q["a_zp"])
        bzp = self.zp(op, lines, be, q["b_zp"])
        self.emit(op, lines, op.results[0], "matmul", op.operands + [azp, bzp],
                  op.in_types + ["tensor<1x%s>" % storage(ae), "tensor<1x%s>" % storage(be)], [], op.out_types[0])
        return lines

    def op_avg_pool2d(self, op):
        a = self.attrs_of(op, ("kernel", "stride", "pad", "acc_type", "quantization_info"))
        self.check(op, 1)
        for k in ("kernel", "stride", "pad", "acc_type"):
            if k not in a:
                raise UpgradeError("tosa.avg_pool2d: missing attribute '%s'" % k)
        q = {"input_zp": 0, "output_zp": 0}
        if "quantization_info" in a:
            q.update(parse_quant(a["quantization_info"], "unary_quant", ("input_zp", "output_zp")))
        _, ie = parse_tensor(op.in_types[0])
        _, oe = parse_tensor(op.out_types[0])
        lines = []
        # The rows fit_window drops are in no window, so no divisor changes.
        x, xt, pad = self.fit_window(op, lines, a, parse_i64_array(a["kernel"]), [1, 1])
        izp = self.zp(op, lines, ie, q["input_zp"])
        ozp = self.zp(op, lines, oe, q["output_zp"])
        self.emit(op, lines, op.results[0], "avg_pool2d", [x, izp, ozp],
                  [xt, "tensor<1x%s>" % storage(ie), "tensor<1x%s>" % storage(oe)],
                  [("acc_type", a["acc_type"]), ("kernel", a["kernel"]), ("pad", pad), ("stride", a["stride"])],
                  op.out_types[0])
        return lines

    def op_max_pool2d(self, op):
        a = self.attrs_of(op, ("kernel", "stride", "pad"))
        self.check(op, 1)
        for k in ("kernel", "stride", "pad"):
            if k not in a:
                raise UpgradeError("tosa.max_pool2d: missing attribute '%s'" % k)
        lines = []
        x, xt, pad = self.fit_window(op, lines, a, parse_i64_array(a["kernel"]), [1, 1])
        if x == op.operands[0] and pad == a["pad"]:
            return None
        self.emit(op, lines, op.results[0], "max_pool2d", [x], [xt],
                  [("kernel", a["kernel"]), ("pad", pad), ("stride", a["stride"])], op.out_types[0])
        return lines

    def op_reshape(self, op):
        a = self.attrs_of(op, ("new_shape",))
        self.check(op, 1)
        if "new_shape" not in a:
            raise UpgradeError("tosa.reshape: missing attribute 'new_shape'")
        want = parse_i64_array(a["new_shape"])
        have, elt = parse_tensor(op.out_types[0])
        if len(want) != len(have) or any(h >= 0 and w >= 0 and w != h for w, h in zip(want, have)):
            raise UpgradeError("tosa.reshape: new_shape %s disagrees with the result type %s" % (want, op.out_types[0]))
        # An inferred (-1) dimension the result type knows is written out.
        dims = [h if (w < 0 and h >= 0) else w for w, h in zip(want, have)]
        lines = []
        s = self.shape(op, lines, dims)
        self.emit(op, lines, op.results[0], "reshape", [op.operands[0], s],
                  [op.in_types[0], "!tosa.shape<%d>" % len(dims)], [], op.out_types[0])
        return lines

    def op_clamp(self, op):
        a = self.attrs_of(op, ("min_fp", "max_fp", "min_int", "max_int"))
        self.check(op, 1)
        _, elt = parse_tensor(op.in_types[0])
        if elt in FLOAT_TYPES:
            for k in ("min_fp", "max_fp"):
                if k not in a:
                    raise UpgradeError("tosa.clamp: missing attribute '%s'" % k)
            lo = float_bound(parse_scalar_attr(a["min_fp"]), elt)
            hi = float_bound(parse_scalar_attr(a["max_fp"]), elt)
        elif elt in INT_BITS and elt != "i1":
            for k in ("min_int", "max_int"):
                if k not in a:
                    raise UpgradeError("tosa.clamp: missing attribute '%s'" % k)
            # 0.x bounds are i64; the lowering saturated them to the type.
            b = INT_BITS[elt]
            tmin, tmax = -(1 << (b - 1)), (1 << (b - 1)) - 1
            lo = "%d : %s" % (min(max(parse_int_attr(a["min_int"]), tmin), tmax), elt)
            hi = "%d : %s" % (min(max(parse_int_attr(a["max_int"]), tmin), tmax), elt)
        else:
            raise UpgradeError("tosa.clamp: unsupported element type '%s'" % elt)
        lines = []
        self.emit(op, lines, op.results[0], "clamp", op.operands, op.in_types,
                  [("max_val", hi), ("min_val", lo)], op.out_types[0])
        return lines

    def op_mul(self, op):
        a = self.attrs_of(op, ("shift",))
        self.check(op, 2)
        ranks = set(len(parse_tensor(t)[0]) for t in op.in_types + op.out_types)
        if len(ranks) != 1:
            raise UpgradeError("tosa.mul: operands of different ranks (1.0 needs equal ranks; not converted)")
        shift = parse_int_attr(a["shift"]) if "shift" in a else 0
        lines = []
        s = self.const(op, lines, "dense<%d>" % shift, "tensor<1xi8>")
        self.emit(op, lines, op.results[0], "mul", op.operands + [s], op.in_types + ["tensor<1xi8>"],
                  [], op.out_types[0])
        return lines

    def op_transpose(self, op):
        self.attrs_of(op, ())
        self.check(op, 2)
        perm = op.operands[1]
        if perm not in self.consts:
            raise UpgradeError("tosa.transpose: perms %s is not a tosa.const defined earlier in the file" % perm)
        value, ty = self.consts[perm]
        if ty.strip() != op.in_types[1].strip():
            raise UpgradeError("tosa.transpose: perms %s has type %s, the op says %s" % (perm, ty, op.in_types[1]))
        vals = dense_ints(value, ty)
        rank = len(parse_tensor(op.in_types[0])[0])
        if sorted(vals) != list(range(rank)):
            raise UpgradeError("tosa.transpose: perms %s is not a permutation of rank %d" % (vals, rank))
        lines = []
        self.emit(op, lines, op.results[0], "transpose", [op.operands[0]], [op.in_types[0]],
                  [("perms", "array<i32: %s>" % ", ".join(str(v) for v in vals))], op.out_types[0])
        return lines


# Ops whose 0.x text is valid 1.0 text with the same meaning: their allowed
# attributes and operand count (None: variadic).
_BINARY = ("add", "sub", "maximum", "minimum", "pow", "equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
           "logical_left_shift", "logical_right_shift")
_UNARY = ("abs", "ceil", "floor", "exp", "log", "reciprocal", "rsqrt", "sigmoid", "tanh", "erf",
          "cos", "sin", "logical_not", "bitwise_not", "clz", "cast", "identity")
UNCHANGED = {}
for _n in _BINARY:
    UNCHANGED[_n] = ((), 2)
for _n in _UNARY:
    UNCHANGED[_n] = ((), 1)
for _n in ("reduce_sum", "reduce_max", "reduce_min", "reduce_product", "reduce_all", "reduce_any", "argmax"):
    UNCHANGED[_n] = (("axis",), 1)
UNCHANGED["intdiv"] = ((), 2)
UNCHANGED["concat"] = (("axis",), None)
UNCHANGED["select"] = ((), 3)
UNCHANGED["gather"] = ((), 2)
UNCHANGED["custom"] = (("operator_name", "domain_name", "implementation_attrs"), None)
# Renamed in 1.0, operands and attributes as they were.
RENAMED = {"reduce_prod": "reduce_product", "int_div": "intdiv"}
# Broadcasting ops: 1.0 needs operands of one rank.
SAME_RANK = set(_BINARY) | {"select", "int_div"}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Upgrade TOSA 0.x text (MLIR 19) to TOSA 1.0 text (MLIR 22).")
    ap.add_argument("input", nargs="?", default="-", help="a .mlir file, or - for stdin (default)")
    ap.add_argument("-o", dest="output", default="-", help="output file (default: stdout)")
    ap.add_argument("--keep-lines", action="store_true",
                    help="write an op's new values on its own line: line numbers stay those of the input")
    a = ap.parse_args(argv)
    if a.input == "-":
        name, text = "<stdin>", sys.stdin.read()
    else:
        name = a.input
        try:
            with open(a.input, encoding="utf-8", newline="") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            sys.stderr.write("%s: error: %s\n" % (a.input, e))
            return 1
    try:
        out = Upgrader(text, name, a.keep_lines).run(text)
    except UpgradeError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    if a.output == "-":
        sys.stdout.write(out)
    else:
        with open(a.output, "w", encoding="utf-8", newline="") as f:
            f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
