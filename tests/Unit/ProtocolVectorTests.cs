using System.Collections.Generic;
using System.Linq;
using System.Collections.Specialized;
using Delayed.Core.Codec;
using Xunit;

namespace Delayed.Tests;

/// <summary>Every hex example of the protocol shared with the Go and Python implementations (the bytes their enqueuers write), encoded and decoded.</summary>
public class ProtocolVectorTests
{
    private const string AddPath = "ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64";          // "app.tasks:add"
    private const string FlakyPath = "af 61 70 70 2e 74 61 73 6b 73 3a 66 6c 61 6b 79"; // "app.tasks:flaky"
    private const string PingPath = "ae 61 70 70 2e 74 61 73 6b 73 3a 70 69 6e 67";     // "app.tasks:ping"

    private static void AssertBytes(string expectedHex, byte[] actual) => Assert.Equal(expectedHex, Hex.Format(actual));

    private static string Norm(string hex) => Hex.Format(Hex.Parse(hex));

    private static OrderedDictionary Map(params (string Key, object? Value)[] entries)
    {
        var map = new OrderedDictionary();
        foreach (var (key, value) in entries) map.Add(key, value);
        return map;
    }

    [Fact]
    public void P1_NoArguments_IsNameOnly() =>
        AssertBytes(Norm("91 " + PingPath), TaskEncoder.EncodePython("app.tasks:ping", null, null, 0));

    [Fact]
    public void P2_PositionalArguments() =>
        AssertBytes(Norm("92 " + AddPath + " 92 01 02"), TaskEncoder.EncodePython("app.tasks:add", new object[] { 1, 2 }, null, 0));

    [Fact]
    public void P3_PositionalAndKeywordArguments() =>
        AssertBytes(Norm("93 " + AddPath + " 91 01 81 a1 62 02"), TaskEncoder.EncodePython("app.tasks:add", new object[] { 1 }, Map(("b", 2)), 0));

    [Fact]
    public void P4_KeywordArgumentsKeepEmptyPositionalArray() =>
        AssertBytes(Norm("93 " + AddPath + " 90 82 a1 61 01 a1 62 02"), TaskEncoder.EncodePython("app.tasks:add", null, Map(("a", 1), ("b", 2)), 0));

    [Fact]
    public void P5_RetryKeepsEveryElement() =>
        AssertBytes(Norm("94 " + FlakyPath + " 90 80 03"), TaskEncoder.EncodePython("app.tasks:flaky", null, null, 3));

    [Fact]
    public void P6_UnlimitedRetry() =>
        AssertBytes(Norm("94 " + FlakyPath + " 91 07 80 ff"), TaskEncoder.EncodePython("app.tasks:flaky", new object[] { 7 }, null, -1));

    [Fact]
    public void P7_RetryOne() =>
        AssertBytes(Norm("94 " + FlakyPath + " 91 07 80 01"), TaskEncoder.EncodePython("app.tasks:flaky", new object[] { 7 }, null, 1));

    [Fact]
    public void P8_ValueTypesUseSmallestForms() =>
        AssertBytes(Norm("92 a3 6d 3a 66 9a a1 73 cb 3f f8 00 00 00 00 00 00 c0 c3 c4 01 00 91 01 ff cc c8 d1 ff 38 ce 00 01 11 70"),
            TaskEncoder.EncodePython("m:f", new object?[] { "s", 1.5, null, true, new byte[] { 0 }, new[] { 1 }, -1, 200, -200, 70000 }, null, 0));

    [Fact]
    public void P5Prime_RetryDecrementedOnReenqueue() =>
        AssertBytes(Norm("94 " + FlakyPath + " 90 80 02"), TaskEncoder.EncodeRetry(TaskDecoder.Decode(Hex.Parse("94 " + FlakyPath + " 90 80 03"))));

    [Fact]
    public void P6_UnlimitedRetryReenqueuedUnchanged()
    {
        var p6 = Hex.Parse("94 " + FlakyPath + " 91 07 80 ff");
        Assert.Equal(p6, TaskEncoder.EncodeRetry(TaskDecoder.Decode(p6)));
    }

    [Fact]
    public void P7Prime_LastRetryDropsTrailingDefaults() =>
        AssertBytes(Norm("92 " + FlakyPath + " 91 07"), TaskEncoder.EncodeRetry(TaskDecoder.Decode(Hex.Parse("94 " + FlakyPath + " 91 07 80 01"))));

    [Fact]
    public void G1_GG1_TwoArgumentsBecomeAnArrayPayload() =>
        AssertBytes("92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02", TaskEncoder.EncodeGo("main.Add", new object?[] { 1, 2 }));

    [Fact]
    public void GG2_OneSliceArgument() =>
        AssertBytes("92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02", TaskEncoder.EncodeGo("main.Add", new object?[] { new[] { 1, 2 } }));

    [Fact]
    public void G2_GG3_OneScalarArgumentIsTheBarePayload() =>
        AssertBytes("92 ab 6d 61 69 6e 2e 53 71 75 61 72 65 c4 01 05", TaskEncoder.EncodeGo("main.Square", new object?[] { 5 }));

    [Fact]
    public void GG4_NoArgumentsIsNilPayloadNeverABareString() =>
        AssertBytes("92 a9 6d 61 69 6e 2e 50 69 6e 67 c4 01 c0", TaskEncoder.EncodeGo("main.Ping", null));

    [Fact]
    public void G5_GG6_StructAsArrayOfFields() =>
        AssertBytes("92 a7 6d 61 69 6e 2e 46 31 c4 07 92 01 a4 74 65 73 74", TaskEncoder.EncodeGo("main.F1", new object?[] { new object[] { 1, "test" } }));

    [Fact]
    public void G6_MapPayload() =>
        AssertBytes("92 a7 6d 61 69 6e 2e 46 31 c4 0b 82 a1 41 01 a1 42 a4 74 65 73 74", TaskEncoder.EncodeGo("main.F1", new object?[] { Map(("A", 1), ("B", "test")) }));

    [Fact]
    public void GG7_ScalarAndStruct() =>
        AssertBytes("92 a7 6d 61 69 6e 2e 46 32 c4 09 92 01 92 01 a4 74 65 73 74", TaskEncoder.EncodeGo("main.F2", new object?[] { 1, new object[] { 1, "test" } }));

    [Fact]
    public void GG8_NestedStruct() =>
        AssertBytes("92 a7 6d 61 69 6e 2e 46 33 c4 0b 94 a1 6e 92 01 a1 78 c0 91 a1 74",
            TaskEncoder.EncodeGo("main.F3", new object?[] { new object?[] { "n", new object[] { 1, "x" }, null, new[] { "t" } } }));

    [Fact]
    public void GG9_LongPathUsesStr8() =>
        AssertBytes(Norm("92 d9 24 67 69 74 68 75 62 2e 63 6f 6d 2f 61 63 6d 65 2f 6a 6f 62 73 2f 74 61 73 6b 73 2e 53 65 6e 64 45 6d 61 69 6c c4 06 a5 61 40 62 2e 63"),
            TaskEncoder.EncodeGo("github.com/acme/jobs/tasks.SendEmail", new object?[] { "a@b.c" }));

    [Fact]
    public void Decode_P3_PythonShape()
    {
        var task = TaskDecoder.Decode(Hex.Parse("93 " + AddPath + " 91 01 81 a1 62 02"));
        Assert.Equal(TaskFormat.Python, task.Format);
        Assert.Equal("app.tasks:add", task.Name);
        Assert.Equal(new object?[] { 1L }, task.Arguments);
        Assert.Equal(2L, task.NamedArguments["b"]);
        Assert.Equal(0, task.Retry);
    }

    [Fact]
    public void Decode_P8_ValueTypes()
    {
        var task = TaskDecoder.Decode(Hex.Parse("92 a3 6d 3a 66 9a a1 73 cb 3f f8 00 00 00 00 00 00 c0 c3 c4 01 00 91 01 ff cc c8 d1 ff 38 ce 00 01 11 70"));
        Assert.Equal(new object?[] { "s", 1.5, null, true, new byte[] { 0 }, new object?[] { 1L }, -1L, 200L, -200L, 70000L }, task.Arguments);
    }

    [Theory]
    [InlineData("94 " + FlakyPath + " 90 80 03", 3)]
    [InlineData("94 " + FlakyPath + " 91 07 80 ff", -1)]
    [InlineData("94 " + FlakyPath + " 90 80 c3", 1)] // a retry of boolean True counts as 1
    public void Decode_RetryValues(string hex, long retry) => Assert.Equal(retry, TaskDecoder.Decode(Hex.Parse(hex)).Retry);

    [Theory]
    [InlineData("92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02", "main.Add", true)]       // G1 / GG1
    [InlineData("92 ab 6d 61 69 6e 2e 53 71 75 61 72 65 c4 01 05", "main.Square", true)] // G2 / GG3
    [InlineData("a9 6d 61 69 6e 2e 50 69 6e 67", "main.Ping", false)]                 // G3: bare string
    [InlineData("92 a9 6d 61 69 6e 2e 50 69 6e 67 c4 01 90", "main.Ping", true)]        // G4
    [InlineData("92 a9 6d 61 69 6e 2e 50 69 6e 67 c4 01 c0", "main.Ping", true)]        // GG4
    [InlineData("92 a9 6d 61 69 6e 2e 50 69 6e 67 c0", "main.Ping", false)]             // GG5: nil element
    [InlineData("92 a7 6d 61 69 6e 2e 46 33 c4 0b 94 a1 6e 92 01 a1 78 c0 91 a1 74", "main.F3", true)] // GG8
    public void Decode_GoShapes(string hex, string name, bool hasPayload)
    {
        var task = TaskDecoder.Decode(Hex.Parse(hex));
        Assert.Equal(TaskFormat.Go, task.Format);
        Assert.Equal(name, task.Name);
        Assert.Equal(hasPayload, task.HasPayload);
    }

    [Fact]
    public void Decode_GoPayloadValues()
    {
        Assert.Equal(new object?[] { 1L, 2L }, TaskDecoder.Decode(Hex.Parse("92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02")).Payload);
        Assert.Equal(5L, TaskDecoder.Decode(Hex.Parse("92 ab 6d 61 69 6e 2e 53 71 75 61 72 65 c4 01 05")).Payload);
        var gg6 = TaskDecoder.Decode(Hex.Parse("92 a7 6d 61 69 6e 2e 46 31 c4 07 92 01 a4 74 65 73 74"));
        Assert.Equal(new object?[] { 1L, "test" }, gg6.Payload);
    }

    [Theory]
    [InlineData("91 " + PingPath, "app.tasks:ping", "Python")]                                  // P1
    [InlineData("92 " + AddPath + " 92 01 02", "app.tasks:add", "Python")]                      // P2
    [InlineData("93 " + AddPath + " 90 82 a1 61 01 a1 62 02", "app.tasks:add", "Python")]       // P4
    [InlineData("94 " + FlakyPath + " 90 80 03", "app.tasks:flaky", "Python")]                  // P5
    [InlineData("92 " + FlakyPath + " 91 07", "app.tasks:flaky", "Python")]                     // P7'
    [InlineData("92 a7 6d 61 69 6e 2e 46 31 c4 0b 82 a1 41 01 a1 42 a4 74 65 73 74", "main.F1", "Go")] // G6
    [InlineData("92 a7 6d 61 69 6e 2e 46 32 c4 09 92 01 92 01 a4 74 65 73 74", "main.F2", "Go")]       // GG7
    [InlineData("92 d9 24 67 69 74 68 75 62 2e 63 6f 6d 2f 61 63 6d 65 2f 6a 6f 62 73 2f 74 61 73 6b 73 2e 53 65 6e 64 45 6d 61 69 6c c4 06 a5 61 40 62 2e 63", "github.com/acme/jobs/tasks.SendEmail", "Go")] // GG9
    public void Decode_EveryExampleToItsNameAndShape(string hex, string name, string format)
    {
        var task = TaskDecoder.Decode(Hex.Parse(hex));
        Assert.Equal(name, task.Name);
        Assert.Equal(format, task.Format.ToString());
    }

    [Fact]
    public void Decode_ThenEncode_GivesTheSameBytes()
    {
        // What the worker decodes, the enqueuer writes again identically (Python shape, all trailing-default cases).
        foreach (var hex in new[] { "91 " + PingPath, "92 " + AddPath + " 92 01 02", "93 " + AddPath + " 91 01 81 a1 62 02", "93 " + AddPath + " 90 82 a1 61 01 a1 62 02", "94 " + FlakyPath + " 91 07 80 ff" })
        {
            var task = TaskDecoder.Decode(Hex.Parse(hex));
            var again = TaskEncoder.EncodePython(task.Name, task.Arguments.ToArray(), new Dictionary<string, object?>(task.NamedArguments), task.Retry);
            Assert.Equal(Norm(hex), Hex.Format(again));
        }
        var gg6 = TaskDecoder.Decode(Hex.Parse("92 a7 6d 61 69 6e 2e 46 31 c4 07 92 01 a4 74 65 73 74"));
        Assert.Equal("92 a7 6d 61 69 6e 2e 46 31 c4 07 92 01 a4 74 65 73 74", Hex.Format(TaskEncoder.EncodeGo(gg6.Name, new[] { gg6.Payload })));
    }

    [Theory]
    [InlineData("93 " + AddPath + " 92 01 02 c0", 2, 0)] // GP1: kwargs nil
    [InlineData("93 " + AddPath + " c0 81 a1 62 02", 0, 1)] // GP2: args nil
    [InlineData("93 " + PingPath + " c0 c0", 0, 0)]        // GP3
    [InlineData("93 " + AddPath + " 90 80", 0, 0)]         // GP6
    public void Decode_GoProducedPythonTasks(string hex, int arguments, int named)
    {
        var task = TaskDecoder.Decode(Hex.Parse(hex));
        Assert.Equal(TaskFormat.Python, task.Format);
        Assert.Equal(arguments, task.Arguments.Count);
        Assert.Equal(named, task.NamedArguments.Count);
    }

    [Theory]
    [InlineData("93 " + AddPath + " 91 01 92 01 a4 74 65 73 74")] // GP4: kwargs as an array
    [InlineData("90")]                                            // no elements
    [InlineData("95 a1 61 90 80 00 00")]                          // five elements
    [InlineData("92 01 02")]                                      // name not a string
    [InlineData("c3")]                                            // not an array
    [InlineData("92 a3 6d 3a 66")]                                // truncated
    [InlineData("91 a3 6d 3a 66 00")]                             // trailing bytes
    [InlineData("91 a2 ff fe")]                                   // invalid UTF-8
    [InlineData("92 a3 6d 3a 66 dd ff ff ff ff")]                 // array header claiming 4 billion elements
    [InlineData("92 a1 67 c4 02 c7 00")]                           // Go payload with an extension type
    [InlineData("92 a1 6d 91 d6 05 00 00 00 00")]                 // Python argument with an extension type
    [InlineData("92 a1 6d 91 81 c0 01")]                          // a map with a nil key
    public void Decode_MalformedIsRefused(string hex) =>
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(Hex.Parse(hex)));

    [Fact]
    public void Decode_DepthIsBounded()
    {
        var bytes = new List<byte> { 0x92, 0xa1, 0x6d };
        for (var i = 0; i < 100; i++) bytes.Add(0x91);
        bytes.Add(0x01);
        var error = Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(bytes.ToArray()));
        Assert.Contains("nested", error.Message);
    }

    [Fact]
    public void Decode_SizeIsBounded()
    {
        var limits = new PlainDataLimits { MaxTaskBytes = 100 };
        var big = TaskEncoder.EncodePython("m:f", new object[] { new string('x', 200) }, null, 0);
        Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(big, limits));
        Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m:f", new object[] { new string('x', 200) }, null, 0, limits));
    }

    [Fact]
    public void Timestamps_RoundTripAsUtc()
    {
        var when = new System.DateTime(2026, 11, 28, 12, 30, 15, 123, System.DateTimeKind.Utc);
        var task = TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", new object[] { when }, null, 0));
        Assert.Equal(when, task.Arguments[0]);
        Assert.Equal(System.DateTimeKind.Utc, ((System.DateTime)task.Arguments[0]!).Kind);
    }

    [Fact]
    public void Encode_RefusesNonPlainData()
    {
        var error = Assert.Throws<PlainDataException>(() => TaskEncoder.EncodePython("m:f", new object[] { new System.Threading.Thread(() => { }) }, null, 0));
        Assert.Contains("System.Threading.Thread", error.Message);
    }

    [Fact]
    public void Encode_UInt64BeyondInt64DecodesAsUInt64()
    {
        var task = TaskDecoder.Decode(TaskEncoder.EncodePython("m:f", new object[] { ulong.MaxValue }, null, 0));
        Assert.Equal(ulong.MaxValue, task.Arguments[0]);
    }
}
