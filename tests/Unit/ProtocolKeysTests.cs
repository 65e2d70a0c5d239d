using System;
using System.Linq;
using Delayed.Core.Codec;
using Delayed.Core.Protocol;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// The names of a queue's keys and of worker ids, which Go and Python workers on the same queue must agree on
/// (docs/protocol.md, Keys of a queue), and the framing of a tracked task's output. No Redis needed.
/// </summary>
public class ProtocolKeysTests
{
    [Fact]
    public void AQueuesKeysAreItsNameAndTheProtocolsSuffixes()
    {
        var keys = new QueueKeys("jobs");
        // The peers' keys.
        Assert.Equal(("jobs", "jobs", "jobs_noti", "jobs_processing"), (keys.Name, keys.Tasks, keys.Tokens, keys.Processing));
        // This implementation's extension keys.
        Assert.Equal(
            new[] { "jobs_inflight", "jobs_workers", "jobs_control", "jobs_scheduled", "jobs_failed", "jobs_failed_data", "jobs_counters",
                "jobs_recurring", "jobs_recurring_due", "jobs_recurring_runs", "jobs_paused", "jobs_unique", "jobs_tracked", "jobs_tracked_ended",
                "jobs_waking" },
            new[] { keys.InFlight, keys.Workers, keys.Control, keys.Scheduled, keys.Failed, keys.FailedData, keys.Counters,
                keys.Recurring, keys.RecurringDue, keys.RecurringRuns, keys.Paused, keys.Unique, keys.Tracked, keys.TrackedEnded, keys.Waking });
        // The scripts' KEYS, in their order.
        Assert.Equal(
            new[] { "jobs", "jobs_noti", "jobs_processing", "jobs_inflight", "jobs_workers", "jobs_control", "jobs_scheduled", "jobs_failed",
                "jobs_failed_data", "jobs_counters", "jobs_paused", "jobs_tracked", "jobs_tracked_ended" },
            keys.All);
        // Every key but the task list ends in one of the suffixes that a queue name may not end in.
        Assert.All(keys.All.Skip(1).Concat(new[] { keys.Recurring, keys.RecurringDue, keys.RecurringRuns, keys.Unique, keys.Waking }),
            key => Assert.Contains(QueueKeys.Suffixes, suffix => key == "jobs" + suffix));
    }

    [Fact]
    public void EveryKeyOfAQueueIsDocumented_ForUsersAndInTheProtocol()
    {
        // A user deciding what to back up, what an ACL must reach or what a key in their server is reads these two.
        var root = AppContext.BaseDirectory;
        while (!System.IO.File.Exists(System.IO.Path.Combine(root, "docs", "protocol.md")))
            root = System.IO.Path.GetDirectoryName(root) ?? throw new InvalidOperationException("docs/protocol.md not found above the test's folder.");
        var help = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "docs", "en-US", "about_Delayed.help.txt"));
        var protocol = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "docs", "protocol.md"));
        Assert.All(QueueKeys.Suffixes, suffix =>
        {
            Assert.Matches(@"\bname" + suffix + @"\b", help);
            Assert.Matches("`N" + suffix + "`", protocol);
        });
    }

    [Theory]
    [InlineData("jobs", "")]
    [InlineData("{ops}.high", "{ops}")]
    [InlineData("high{ops}", "{ops}")]
    [InlineData("a{}b{c}", "")] // an empty first tag: Redis hashes the whole name
    [InlineData("a{b", "")]
    [InlineData("x}{y}", "{y}")]
    [InlineData("{{a}}", "{{a}")] // Redis hashes "{a": from the first '{' to the first '}' after it
    public void TheHashTagIsWhatRedisClusterHashes(string name, string tag)
    {
        Assert.Equal(tag, new QueueKeys(name).HashTag);
    }

    [Fact]
    public void ANameThatWouldShareKeysWithAnotherQueueIsRefusedNamingThatQueue()
    {
        foreach (var suffix in QueueKeys.Suffixes)
        {
            var message = Assert.Throws<ArgumentException>(() => new QueueKeys("jobs" + suffix)).Message;
            Assert.Contains($"ends in '{suffix}', the suffix of a key of queue 'jobs'", message);
            Assert.Contains("Choose a name that does not end in _noti, _processing", message);
        }
        foreach (var blank in new[] { "", " ", "\t" })
            Assert.Contains("not empty or blank", Assert.Throws<ArgumentException>(() => new QueueKeys(blank)).Message);
        Assert.Equal("x_noti_y", new QueueKeys("x_noti_y").Name); // a suffix inside a name is harmless
        // Names read from Redis (a worker's description of its queues) are checked by the same rule, without throwing.
        Assert.True(QueueKeys.IsValidName("x_noti_y"));
        Assert.False(QueueKeys.IsValidName("jobs_noti"));
        Assert.False(QueueKeys.IsValidName(" "));
        Assert.False(QueueKeys.IsValidName(null));
    }

    [Fact]
    public void AWorkerIdIs32LowercaseHexCharacters_AfterTheQueuesHashTag()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => WorkerIds.New()).ToList();
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(100, ids.Distinct().Count());
        // Random bytes, not a counter or a clock: every hex digit turns up across 100 ids.
        Assert.Equal(16, string.Concat(ids).Distinct().Count());
        Assert.Matches("^\\{ops\\}[0-9a-f]{32}$", WorkerIds.New("{ops}"));
        Assert.Matches("^[0-9a-f]{6}$", WorkerIds.RandomHex(3));
    }

    [Fact]
    public void OutputFramesReadBackAsWritten_AndBytesThatAreNotFramesAreRefused()
    {
        var texts = new[] { "first", "", "último" };
        var bytes = TextFrames.Write(texts);
        Assert.Equal(texts, TextFrames.Read(bytes, bytes.Length)); // exactly at the bound
        Assert.Contains($"{bytes.Length - 1:N0} allowed", Assert.Throws<FormatException>(() => TextFrames.Read(bytes, bytes.Length - 1)).Message);
        Assert.Empty(TextFrames.Read(new byte[] { 0xc0 }, 10)); // nil: no output
        Assert.Throws<FormatException>(() => TextFrames.Read(new byte[] { 0x91, 0x01 }, 10)); // an array of a number
    }

    [Fact]
    public void ATextOfTheImplementationsOwnRecordsReadsNilAsEmpty()
    {
        var text = new MessagePack.MessagePackReader(Hex.Parse("a2 c3 a9"));
        Assert.Equal("é", MessagePackText.Read(ref text));
        var nil = new MessagePack.MessagePackReader(Hex.Parse("c0"));
        Assert.Equal("", MessagePackText.Read(ref nil));
    }
}
