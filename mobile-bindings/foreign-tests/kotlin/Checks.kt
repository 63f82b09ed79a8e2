// The small check runner both Kotlin tests use: a failed check is printed and counted, and
// the rest still run.

internal var passed = 0
internal var failed = 0

internal fun check(name: String, body: () -> Unit) {
    try {
        body()
        passed++
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
    }
}

internal fun expect(cond: Boolean, what: () -> String) {
    if (!cond) throw AssertionError(what())
}

internal fun unhex(s: String): ByteArray =
    ByteArray(s.length / 2) { i -> s.substring(2 * i, 2 * i + 2).toInt(16).toByte() }
