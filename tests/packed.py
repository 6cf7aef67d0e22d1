"""Reading the packed numbers pages carry (reportgen.render.flamegraph.vlq),
independently of the JavaScript that reads them in the browser."""

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def unvlq(text: str) -> list[int]:
    """Base64-alphabet VLQ: 5 bits a character, the sixth says another follows."""
    out, val, mul = [], 0, 1
    for c in text:
        d = ALPHABET.index(c)
        val += (d & 31) * mul
        if d & 32:
            mul *= 32
        else:
            out.append(val)
            val, mul = 0, 1
    return out


def unzig(z: int) -> int:
    return -(z + 1) // 2 if z % 2 else z // 2
