using System;
using System.Collections.Generic;
using System.Linq;
using Delayed.Core.Codec;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// The codec's bounds, its retry rewriting and its map keys, without Redis: what mutation testing found untested by
/// the protocol vectors (tests/README.md).
/// </summary>
public class CodecTests
{
    private static readonly PlainDataLimits Small = new() { MaxTaskBytes = 1000, MaxDepth = 4, MaxElements = 50 };

    [Fact]
    public void ATaskLargerThanTheFirstBufferRoundTripsWhole()
    {
        var text = new string('x', 5000); // many times the encoder's first buffer
        var bytes = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        var task = TaskDecoder.Decode(TaskEncoder.EncodePython("m:big", new object[] { text, bytes, 7 }, null, 0));
        Assert.Equal(text, task.Arguments[0]);
        Assert.Equal(bytes, (byte[])task.Arguments[1]!);
        Assert.Equal(7L, task.Arguments[2]);
    }

    [Fact]
    public void TheSizeLimitHoldsBothWays_AtTheLimitAndOneByteOver()
    {
        var fits = TaskEncoder.EncodePython("m:f", new object[] { new string('x', 900) }, null, 0, Small);
        Assert.True(fits.Length <= Small.MaxTaskBytes);
        Assert.Equal("m:f", TaskDecoder.Decode(fits, Small).Name);
        var limit = new PlainDataLimits { MaxTaskBytes = fits.Length };
        Assert.Equal("m:f", TaskDecoder.Decode(fits, limit).Name); // exactly at the limit: accepted
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(fits, new PlainDataLimits { MaxTaskBytes = fits.Length - 1 }));
        Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m:f", new object[] { new string('x', 2000) }, null, 0, Small));
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(Array.Empty<byte>()));
    }

    [Fact]
    public void NestingDeeperThanTheLimitIsRefused_TheSameDepthOnBothSides()
    {
        object Nest(int levels) => levels == 0 ? 1 : new object[] { Nest(levels - 1) };
        bool Encodes(int levels)
        {
            try
            {
                TaskEncoder.EncodePython("m:f", new[] { Nest(levels) }, null, 0, Small);
                return true;
            }
            catch (PlainDataException)
            {
                return false;
            }
        }
        var deepest = Enumerable.Range(0, 10).Last(Encodes);
        Assert.True(deepest >= 1 && deepest < 4, $"a depth limit of 4 let {deepest} nested arrays through");
        // What the encoder writes at the limit the decoder reads; one level more it refuses, as the encoder did.
        Assert.NotNull(TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", new[] { Nest(deepest) }, null, 0), Small));
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", new[] { Nest(deepest + 1) }, null, 0), Small));
        var deepMap = TaskEncoder.EncodePython("m:f", null, new Dictionary<string, object?> { ["a"] = new Dictionary<string, object?> { ["b"] = new Dictionary<string, object?> { ["c"] = new Dictionary<string, object?> { ["d"] = 1 } } } }, 0);
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(deepMap, Small));
    }

    [Fact]
    public void MoreValuesThanTheElementBoundAreRefused_InArraysAndInMaps()
    {
        var many = TaskEncoder.EncodePython("m:f", new object[] { Enumerable.Range(0, 60).Cast<object>().ToArray() }, null, 0);
        Assert.Contains("more than 50", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(many, Small)).Message);
        var wideMap = TaskEncoder.EncodePython("m:f", null, Enumerable.Range(0, 30).ToDictionary(i => "k" + i, i => (object?)i), 0);
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(wideMap, Small)); // 30 keys and 30 values
        var fewer = TaskEncoder.EncodePython("m:f", new object[] { Enumerable.Range(0, 40).Cast<object>().ToArray() }, null, 0);
        Assert.Equal(40, ((object?[])TaskDecoder.Decode(fewer, Small).Arguments[0]!).Length);
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(1, 0)]
    [InlineData(0, 0)] // none left stays none, never unlimited
    [InlineData(-1, -1)] // unlimited stays unlimited
    public void ARetryTakesOneFromTheBudgetAndKeepsTheRest(long retry, long expected)
    {
        var named = new Dictionary<string, object?> { ["host"] = "web01" };
        var task = TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", new object[] { 1, "two" }, named, retry));
        var again = TaskDecoder.Decode(TaskEncoder.EncodeRetry(task));
        Assert.Equal(expected, again.Retry);
        Assert.Equal(task.Arguments, again.Arguments);
        Assert.Equal("web01", again.NamedArguments["host"]);
        // Byte for byte what the encoder writes for that budget, as a Python worker would.
        Assert.Equal(TaskEncoder.EncodePython("m:f", new object[] { 1, "two" }, named, expected), TaskEncoder.EncodeRetry(task));
    }

    [Fact]
    public void ARetryOfATaskWithoutArgumentsOrNamesKeepsItsShortForm()
    {
        var bare = TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", null, null, 0));
        Assert.Equal(TaskEncoder.EncodePython("m:f", null, null, 0), TaskEncoder.WithRetry(bare, 0));
        var named = TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", null, new Dictionary<string, object?> { ["a"] = 1 }, 0));
        Assert.Equal(TaskEncoder.EncodePython("m:f", null, new Dictionary<string, object?> { ["a"] = 1 }, 0), TaskEncoder.WithRetry(named, 0));
    }

    [Fact]
    public void MapKeysCompareAsTheirTypeAndTextSay_AndEqualKeysHashAlike()
    {
        var ordinal = PlainKeyComparer.Ordinal;
        Assert.True(ordinal.Equals("key", "key"));
        Assert.False(ordinal.Equals("key", "KEY"));
        Assert.True(PlainKeyComparer.OrdinalIgnoreCase.Equals("key", "KEY"));
        Assert.Equal(PlainKeyComparer.OrdinalIgnoreCase.GetHashCode("key"), PlainKeyComparer.OrdinalIgnoreCase.GetHashCode("KEY"));
        Assert.Equal(ordinal.GetHashCode("key"), ordinal.GetHashCode(new string("key".ToCharArray())));
        Assert.True(ordinal.Equals(1L, 1L));
        Assert.False(ordinal.Equals(1L, "1"));
        Assert.Equal(ordinal.GetHashCode(true), ordinal.GetHashCode(true));
        // A good mix: a thousand distinct keys of the shape a hash-flooding task would use land in nearly as many buckets.
        var hashes = Enumerable.Range(0, 1000).Select(i => ordinal.GetHashCode((long)i << 32)).Distinct().Count();
        Assert.True(hashes > 990, $"only {hashes} distinct hashes for 1,000 keys");
        var texts = Enumerable.Range(0, 1000).Select(i => ordinal.GetHashCode("k" + i) & 1023).Distinct().Count();
        Assert.True(texts > 500, $"only {texts} of 1,024 buckets used by 1,000 string keys");
    }

    [Fact]
    public void MapsWithNonStringKeysAndMalformedShapesAreRefusedWithWhatIsWrong()
    {
        // [name, args, {1: 2}]: kwargs with an integer key.
        var intKey = new byte[] { 0x93, 0xa3, (byte)'m', (byte)':', (byte)'f', 0x90, 0x81, 0x01, 0x02 };
        Assert.Contains("Keyword argument names must be strings", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(intKey)).Message);
        var fiveElements = new byte[] { 0x95, 0xa1, (byte)'f', 0x90, 0x80, 0x00, 0x00 };
        Assert.Contains("1 to 4 elements", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(fiveElements)).Message);
        var nameNotString = new byte[] { 0x91, 0x01 };
        Assert.Contains("first element is its name", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(nameNotString)).Message);
        var trailing = TaskEncoder.EncodePython("m:f", null, null, 0).Concat(new byte[] { 0xc0 }).ToArray();
        Assert.Contains("trailing bytes", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(trailing)).Message);
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.ReadName(nameNotString));
        Assert.Throws<ArgumentException>(() => TaskEncoder.EncodePython("", null, null, 0));
    }

    /// <summary>
    /// Every .NET type the writer takes, as the bytes of its smallest MessagePack form (what Python's msgpack writes for
    /// the same number), and what a handler reads back.
    /// </summary>
    public static TheoryData<object, string, object> PlainValues => new()
    {
        { (byte)200, "cc c8", 200L },
        { (sbyte)-5, "fb", -5L },
        { (short)-300, "d1 fe d4", -300L },
        { (ushort)60000, "cd ea 60", 60000L },
        { 70000, "ce 00 01 11 70", 70000L },
        { 4_000_000_000u, "ce ee 6b 28 00", 4_000_000_000L },
        { -(1L << 40), "d3 ff ff ff 00 00 00 00 00", -(1L << 40) },
        { 1UL << 63, "cf 80 00 00 00 00 00 00 00", 1UL << 63 },
        { 1.5f, "ca 3f c0 00 00", 1.5 },
        { 0.1, "cb 3f b9 99 99 99 99 99 9a", 0.1 },
        { 'x', "a1 78", "x" },
        { DayOfWeek.Friday, "a6 46 72 69 64 61 79", "Friday" },
        { true, "c3", true },
        { new ReadOnlyMemory<byte>(new byte[] { 1, 2 }), "c4 02 01 02", new byte[] { 1, 2 } },
    };

    [Theory]
    [MemberData(nameof(PlainValues))]
    public void EachPlainTypeIsWrittenInItsSmallestFormAndReadBack(object value, string hex, object read)
    {
        var bytes = TaskEncoder.EncodePython("m", new[] { value }, null, 0);
        Assert.Equal("92 a1 6d 91 " + hex, Hex.Format(bytes)); // [name, [value]]
        Assert.Equal(read, TaskDecoder.Decode(bytes).Arguments[0]);
    }

    [Fact]
    public void DatesAreWrittenAsTheirInstantInUtc_AndGuidsAsText()
    {
        var utc = new DateTime(2026, 12, 2, 10, 30, 0, DateTimeKind.Utc);
        var offset = new DateTimeOffset(2026, 12, 2, 12, 30, 0, TimeSpan.FromHours(2));
        var local = utc.ToLocalTime();
        var guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var task = TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { utc, offset, local, guid }, null, 0));
        foreach (var date in task.Arguments.Take(3))
        {
            var read = Assert.IsType<DateTime>(date);
            Assert.Equal(DateTimeKind.Utc, read.Kind);
            Assert.Equal(utc, read);
        }
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", task.Arguments[3]);
    }

    [Fact]
    public void AKeysHashAvalanches_EveryInputBitFlipsEachOutputBitAboutHalfTheTime()
    {
        // The strict avalanche criterion of the integer mixer: what keeps keys an attacker chose from sharing buckets.
        // 1,000 inputs per bit: a fair bit flips 50 % ± 1.6 % (one standard deviation); a weakened mixer leaves whole
        // output bits unmoved by some input bits.
        var random = new Random(20261202);
        var comparer = PlainKeyComparer.Ordinal;
        var buffer = new byte[8];
        var flips = new int[64, 32];
        const int samples = 1000;
        for (var n = 0; n < samples; n++)
        {
            random.NextBytes(buffer);
            var value = BitConverter.ToInt64(buffer, 0);
            var hash = comparer.GetHashCode(value);
            for (var bit = 0; bit < 64; bit++)
            {
                var changed = (uint)(hash ^ comparer.GetHashCode(value ^ (1L << bit)));
                for (var output = 0; output < 32; output++) flips[bit, output] += (int)((changed >> output) & 1);
            }
        }
        for (var bit = 0; bit < 64; bit++)
            for (var output = 0; output < 32; output++)
                Assert.InRange(flips[bit, output] / (double)samples, 0.4, 0.6);
    }

    [Fact]
    public void TheElementBoundIsExact_AnArrayOrMapAtItPassesAndOneMoreIsRefused()
    {
        // Every value counts one, an array or map itself included: 50 allow one argument that is an array of 48 numbers
        // (the arguments' array, that array, 48 numbers), and keyword arguments of 24 pairs (the empty positional array,
        // the map, 48 keys and values).
        object?[] Numbers(int n) => Enumerable.Range(0, n).Cast<object?>().ToArray();
        Dictionary<string, object?> Pairs(int n) => Enumerable.Range(0, n).ToDictionary(i => "k" + i, i => (object?)i);
        Assert.Equal(48, ((object?[])TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { Numbers(48) }, null, 0), Small).Arguments[0]!).Length);
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { Numbers(49) }, null, 0), Small));
        Assert.Equal(24, TaskDecoder.Decode(TaskEncoder.EncodePython("m", null, Pairs(24), 0), Small).NamedArguments.Count);
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(TaskEncoder.EncodePython("m", null, Pairs(25), 0), Small));
    }

    [Fact]
    public void KeysOfDifferentValueOrCaseHashApart_WhereTheyAreDifferentKeys()
    {
        // Equal hashes would still compare right, but every such pair shares a bucket: what the keyed hash is there to prevent.
        Assert.NotEqual(PlainKeyComparer.Ordinal.GetHashCode(true), PlainKeyComparer.Ordinal.GetHashCode(false));
        Assert.NotEqual(PlainKeyComparer.Ordinal.GetHashCode("key"), PlainKeyComparer.Ordinal.GetHashCode("KEY"));
        Assert.False(PlainKeyComparer.Ordinal.Equals("key", "KEY"));
    }
}
