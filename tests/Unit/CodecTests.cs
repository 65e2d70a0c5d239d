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
}
