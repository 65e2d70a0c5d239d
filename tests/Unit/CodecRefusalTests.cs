using System;
using System.Collections.Generic;
using System.Linq;
using Delayed.Core.Codec;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// What the codec refuses, and what it says: a task that cannot run is kept in the failed store with this text as its
/// error, so the text must name what is wrong. Also the shapes it takes that only a peer's bytes or an unusual .NET
/// value produce. Found untested by mutation testing (tests/README.md); no Redis needed.
/// </summary>
public class CodecRefusalTests
{
    private static readonly PlainDataLimits Small = new() { MaxTaskBytes = 1000, MaxDepth = 4, MaxElements = 50 };

    private static string Refusal(string hex, PlainDataLimits? limits = null) =>
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(Hex.Parse(hex), limits)).Message;

    private static string NameRefusal(string hex, PlainDataLimits? limits = null) =>
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.ReadName(Hex.Parse(hex), limits)).Message;

    [Theory]
    [InlineData("", "empty (zero bytes)")]
    [InlineData("01", "must be a MessagePack array or string; found Integer")]
    [InlineData("81 a1 61 01", "must be a MessagePack array or string; found Map")]
    [InlineData("92 a1 6d", "not valid MessagePack")] // an array of two that ends after one
    [InlineData("93 a1 6d 05 80", "Element 1 of a Python-shaped task (positional arguments) must be an array or nil; found Integer")]
    [InlineData("93 a1 6d 90 05", "Element 2 of a Python-shaped task (keyword arguments) must be a map or nil; found Integer")]
    [InlineData("94 a1 6d 90 80 a1 78", "Element 3 of a Python-shaped task (retry) must be an integer; found String")]
    [InlineData("90", "1 to 4 elements; this one has 0")]
    [InlineData("92 c4 01 6d c0", "first element is its name (a string); found Binary")]
    public void AMalformedTaskIsRefusedSayingWhatIsWrong(string hex, string says)
    {
        Assert.Contains(says, Refusal(hex));
    }

    [Fact]
    public void ATaskOverTheSizeLimitIsRefusedNamingBothSizes()
    {
        var task = TaskEncoder.EncodePython("m", new object[] { new string('x', 40) }, null, 0);
        var message = Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(task, new PlainDataLimits { MaxTaskBytes = 20 })).Message;
        Assert.Contains($"is {task.Length} bytes, more than the limit of 20 bytes", message);
        // The name alone is read under the same limit: a worker never looks further into bytes it would refuse.
        Assert.Contains("more than the limit of 20 bytes", Assert.Throws<MalformedTaskException>(() => TaskDecoder.ReadName(task, new PlainDataLimits { MaxTaskBytes = 20 })).Message);
        var encoded = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m", new object[] { new string('x', 40) }, null, 0, new PlainDataLimits { MaxTaskBytes = 20 })).Message;
        Assert.Contains($"more than the limit of 20 bytes. Pass a reference to large data", encoded);
        Assert.Throws<PlainDataException>(() => TaskEncoder.EncodeGo("m", new object?[] { new string('x', 40) }, new PlainDataLimits { MaxTaskBytes = 20 }));
        // Exactly at the limit, the encoder takes it as the decoder does.
        Assert.Equal(task, TaskEncoder.EncodePython("m", new object[] { new string('x', 40) }, null, 0, new PlainDataLimits { MaxTaskBytes = task.Length }));
    }

    [Fact]
    public void ANameIsReadOnlyFromABareNameOrTheFirstElementOfOneToFour()
    {
        Assert.Equal("m:f", TaskDecoder.ReadName(Hex.Parse("a3 6d 3a 66"))); // bare name (Python writes it for Go)
        Assert.Equal("m:f", TaskDecoder.ReadName(Hex.Parse("91 a3 6d 3a 66")));
        Assert.Equal("m:f", TaskDecoder.ReadName(Hex.Parse("94 a3 6d 3a 66 90 80 01")));
        Assert.Contains("1 to 4 elements", NameRefusal("90"));
        Assert.Contains("1 to 4 elements", NameRefusal("95 a1 66 90 80 00 00"));
        Assert.Contains("found Integer", NameRefusal("91 01"));
        Assert.Contains("found Map", NameRefusal("81 a1 61 01"));
        Assert.Contains("empty", NameRefusal(""));
    }

    [Fact]
    public void AGoPayloadThatDoesNotReadIsRefusedAsThePayloads()
    {
        // [name, bin(payload)]: a truncated array, then one value followed by more bytes.
        Assert.Contains("payload of a Go-shaped task is not valid MessagePack", Refusal("92 a1 6d c4 02 92 01"));
        Assert.Contains("payload of a Go-shaped task has trailing bytes", Refusal("92 a1 6d c4 02 01 02"));
    }

    [Theory]
    [InlineData("c1", "invalid MessagePack code 0xc1")]
    [InlineData("d4 05 00", "extension of type 5; only the timestamp extension (-1)")]
    [InlineData("a2 c3 28", "not valid UTF-8")]
    [InlineData("81 c0 01", "map key of type nil")]
    [InlineData("81 cb 3f f8 00 00 00 00 00 00 01", "map key of type Double")]
    [InlineData("81 91 01 01", "map key of type Object[]")]
    public void AValueThatIsNotPlainDataIsRefusedNamingIt(string value, string says)
    {
        // [name, [value]]
        Assert.Contains(says, Refusal("92 a1 6d 91 " + value));
    }

    [Fact]
    public void TheElementBoundRefusesAnArrayOrMapByItsHeader_BeforeReadingItsValues()
    {
        // The header alone says there are too many: the message names its count (the budget is not spent first).
        Assert.Contains("(an array of 60)", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(
            TaskEncoder.EncodePython("m", new object[] { Enumerable.Range(0, 60).Cast<object>().ToArray() }, null, 0), Small)).Message);
        Assert.Contains("(a map of 30 entries)", Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(
            TaskEncoder.EncodePython("m", null, Enumerable.Range(0, 30).ToDictionary(i => "k" + i, i => (object?)i), 0), Small)).Message);
        // A map of 24 pairs takes 48 of the 50 values after the two before it: at the bound, so it passes.
        Assert.Equal(24, TaskDecoder.Decode(TaskEncoder.EncodePython("m", null, Enumerable.Range(0, 24).ToDictionary(i => "k" + i, i => (object?)i), 0), Small).NamedArguments.Count);
    }

    [Fact]
    public void AMapKeyNestedPastTheDepthLimitIsRefusedForItsDepth_NotReadFirst()
    {
        // [name, [{[[1]]: 1}]]: the key's arrays count toward the depth like any value's (the map is at level 2, its key
        // at 3, the array in the key at 4), so that a key nested thousands deep cannot exhaust the stack before its type
        // is checked.
        var message = Refusal("92 a1 6d 91 81 91 91 01 01", Small);
        Assert.Contains("nested more than 4 levels", message);
    }

    [Fact]
    public void AnUnsignedNumberReadsAsTheSignedOneWhereItFits_WhateverItsEncoding()
    {
        // uint64 encodings of 1 and of long.MaxValue are the longs; one more is a ulong.
        Assert.Equal(1L, TaskDecoder.Decode(Hex.Parse("92 a1 6d 91 cf 00 00 00 00 00 00 00 01")).Arguments[0]);
        Assert.Equal(long.MaxValue, TaskDecoder.Decode(Hex.Parse("92 a1 6d 91 cf 7f ff ff ff ff ff ff ff")).Arguments[0]);
        Assert.Equal(1UL << 63, TaskDecoder.Decode(Hex.Parse("92 a1 6d 91 cf 80 00 00 00 00 00 00 00")).Arguments[0]);
    }

    [Fact]
    public void AStringOfSeveralSegmentsAndANilWhereAStringMustBe()
    {
        var text = new string('é', 3000);
        Assert.Equal(text, TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { text }, null, 0)).Arguments[0]);
        var reader = new MessagePack.MessagePackReader(Hex.Parse("c0"));
        var nil = false;
        try
        {
            PlainDataReader.ReadString(ref reader);
        }
        catch (PlainDataException e)
        {
            nil = e.Message.Contains("Expected a string, found nil.", StringComparison.Ordinal);
        }
        Assert.True(nil, "a nil read as a string was not refused as such");
    }

    [Fact]
    public void TheWriterRefusesWhatIsNotPlainData_SayingWhatIs()
    {
        var type = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m", new object[] { new Version(1, 2) }, null, 0)).Message;
        Assert.Contains("'System.Version' cannot be sent as task data", type);
        Assert.Contains("null, booleans, numbers, strings, byte arrays, dates, lists and dictionaries with string keys", type);
        var key = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m", new object[] { new Dictionary<object, object?> { [Guid.Empty] = 1 } }, null, 0)).Message;
        Assert.Contains("key of type 'System.Guid' cannot be sent as task data: use string keys", key);
        var named = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m", null, new Dictionary<object, object?> { [7] = 1 }, 0)).Message;
        Assert.Contains("Named parameters need string keys; '7' is a Int32", named);
        Assert.Contains("the function path that workers dispatch on",
            Assert.Throws<ArgumentException>(() => TaskEncoder.EncodeGo("", null)).Message);
    }

    [Fact]
    public void TheWriterBoundsTheDepthOfMapsAsOfArrays()
    {
        Dictionary<string, object?> Nest(int levels) => levels == 1
            ? new Dictionary<string, object?> { ["v"] = 1 }
            : new Dictionary<string, object?> { ["v"] = Nest(levels - 1) };
        // Small allows depth 4, the task's own array level 0: the arguments' array (1) holds two nested maps (2, 3)
        // whose innermost values are at level 4, as deep as an array of arrays may go; a third map is refused.
        var fits = TaskEncoder.EncodePython("m", new object[] { Nest(2) }, null, 0, Small);
        Assert.NotNull(TaskDecoder.Decode(fits, Small));
        var message = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m", new object[] { Nest(3) }, null, 0, Small)).Message;
        Assert.Contains("nested more than 4 levels deep; flatten it, or raise the limit", message);
        Assert.Throws<PlainDataException>(() => TaskEncoder.EncodeGo("m", new object?[] { Nest(3), 1 }, Small));
    }

    [Fact]
    public void TheWriterBoundsTheDepthOfSequencesThatAreNotListsAsOfArrays()
    {
        // A Queue<T> is a collection but no IList, a yielded sequence not even a collection: both take the writer's other
        // path, whose nesting counts as an array's (depth 4 in Small: the arguments' array at 1, then 2, 3 and the ints at 4).
        object Nest(int levels, bool yielded)
        {
            object inner = levels == 1 ? 1 : Nest(levels - 1, yielded);
            return yielded ? Once(inner) : new Queue<object>(new[] { inner });
        }
        static IEnumerable<object> Once(object item)
        {
            yield return item;
        }
        foreach (var yielded in new[] { false, true })
        {
            Assert.NotNull(TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { Nest(2, yielded) }, null, 0, Small), Small));
            var message = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m", new object[] { Nest(3, yielded) }, null, 0, Small)).Message;
            Assert.Contains("nested more than 4 levels deep", message);
        }
    }

    [Fact]
    public void ASequenceThatIsNotACollectionIsWrittenWithAllItsItems()
    {
        IEnumerable<int> Yielded()
        {
            yield return 1;
            yield return 2;
            yield return 3;
        }
        var task = TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { Yielded() }, null, 0));
        Assert.Equal(new object?[] { 1L, 2L, 3L }, (object?[])task.Arguments[0]!);
    }

    [Fact]
    public void APythonTaskHasNoPayload_AndAGoPayloadGoesToParametersAsTheGoWorkerPassesIt()
    {
        var python = TaskDecoder.Decode(TaskEncoder.EncodePython("m", new object[] { 1 }, null, 0));
        Assert.False(python.HasPayload);
        Assert.Contains("Only Go-shaped tasks carry a payload", Assert.Throws<InvalidOperationException>(() => python.GoArguments(1)).Message);

        var nil = TaskDecoder.Decode(TaskEncoder.EncodeGo("m", null)); // c4 01 c0: a nil payload
        Assert.True(nil.HasPayload);
        Assert.Empty(nil.GoArguments(0));
        Assert.Equal(new object?[] { null }, nil.GoArguments(1)); // a handler of one parameter gets the nil

        var one = TaskDecoder.Decode(TaskEncoder.EncodeGo("m", new object?[] { "x" }));
        Assert.Equal(new object?[] { "x" }, one.GoArguments(0)); // whole, as the one argument
        var several = TaskDecoder.Decode(TaskEncoder.EncodeGo("m", new object?[] { "x", 2 }));
        Assert.Equal(new object?[] { "x", 2L }, several.GoArguments(2)); // spread
        Assert.Equal(new object?[] { "x", 2L }, (object?[])several.GoArguments(1)[0]!); // whole, to a handler of one

        var bare = TaskDecoder.Decode(Hex.Parse("a1 6d")); // no payload at all
        Assert.False(bare.HasPayload);
        Assert.Empty(bare.GoArguments(1));
    }

    [Fact]
    public void ARetryOfAGoTaskIsRefused_ItHasNoBudget()
    {
        var go = TaskDecoder.Decode(TaskEncoder.EncodeGo("m", null));
        Assert.Contains("Only Python-shaped tasks carry a retry budget", Assert.Throws<InvalidOperationException>(() => TaskEncoder.WithRetry(go, 1)).Message);
    }

    [Fact]
    public void TheWriteBufferGivesAtLeastTheSpaceAskedAndKeepsWhatWasWritten()
    {
        var buffer = new ByteBufferWriter(8);
        var span = buffer.GetSpan();
        Assert.True(span.Length >= 1);
        for (var i = 0; i < 6; i++) span[i] = (byte)(i + 1);
        buffer.Advance(6);
        var more = buffer.GetSpan(4); // 2 bytes left of the first 8: it grows
        Assert.True(more.Length >= 4, $"asked for 4 bytes, got {more.Length}");
        for (var i = 0; i < 4; i++) more[i] = (byte)(i + 7);
        buffer.Advance(4);
        var memory = buffer.GetMemory(100);
        Assert.True(memory.Length >= 100, $"asked for 100 bytes, got {memory.Length}");
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, buffer.ToArray());
        Assert.Equal(10, buffer.WrittenCount);
    }
}
