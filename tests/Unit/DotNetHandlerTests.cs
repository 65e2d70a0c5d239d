using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Handlers;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests
{
    public class DotNetHandlerTests
    {
        private static readonly IReadOnlyList<MethodTaskHandler> Handlers = AssemblyHandlers.Find(typeof(TestHandlers.Calls).Assembly);

        private static async Task<object?> Run(string name, byte[] task, CancellationToken token = default)
        {
            TestHandlers.Calls.Last = null;
            var handler = Handlers.Single(h => h.Name == name);
            await handler.InvokeAsync(new TaskContext(TaskDecoder.Decode(task), "q", "w", cancellationToken: token));
            return TestHandlers.Calls.Last;
        }

        private static byte[] Py(string name, object?[]? args = null, Dictionary<string, object?>? named = null) =>
            TaskEncoder.EncodePython(name, args, named, 0);

        [Fact]
        public void OnlyMarkedPublicStaticMethodsAreHandlers_NamedByAttributeOrByDefault()
        {
            var names = Handlers.Select(h => h.Name).ToList();
            Assert.Contains("test:add", names);
            Assert.Contains("Delayed.Tests.TestHandlers.Calls.Defaulted", names);
            Assert.DoesNotContain(names, n => n.Contains("NotAHandler") || n.Contains("Hidden"));
        }

        [Fact]
        public async Task BindsPositionalAndNamedArgumentsWithDefaults()
        {
            Assert.Equal("3", await Run("test:add", Py("test:add", new object[] { 1, 2 })));
            Assert.Equal("11", await Run("test:add", Py("test:add", new object[] { 1 })));
            Assert.Equal("7", await Run("test:add", Py("test:add", null, new() { ["B"] = 5, ["a"] = 2 })));
        }

        [Fact]
        public async Task ConvertsCollectionsEnumsDatesAndNullables()
        {
            var when = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            var result = await Run("test:types", Py("test:types", new object?[]
            {
                new[] { 1, 2 }, new[] { "x", "y" }, new Dictionary<string, object> { ["k"] = 3 }, "Friday", when, null, new byte[] { 7 }, 2.5,
            }));
            Assert.Equal("1,2|x,y|k=3|Friday|2026-01-02T03:04:05.0000000Z|null|7|2.5", result);
            var byNumber = (string?)await Run("test:types", Py("test:types", new object?[] { new[] { 1, 2 }, new[] { "x", "y" }, null, 1, when, 4, new byte[0], 1 }));
            Assert.Equal("1,2|x,y||Monday|2026-01-02T03:04:05.0000000Z|4||1", byNumber);
        }

        [Fact]
        public async Task BindsPlainObjectsFromAMapOrFromAnArrayInDeclarationOrder()
        {
            Assert.Equal("web01:8080:a,b", await Run("test:server", Py("test:server", new object[] { new Dictionary<string, object> { ["name"] = "web01", ["PORT"] = 8080, ["tags"] = new[] { "a", "b" } } })));
            Assert.Equal("web02:443:", await Run("test:server", Py("test:server", new object[] { new object[] { "web02", 443 } })));
            Assert.Equal("db:5432", await Run("test:record", Py("test:record", new object[] { new Dictionary<string, object> { ["host"] = "db", ["port"] = 5432 } })));
            Assert.Equal("db:1", await Run("test:record", Py("test:record", new object[] { new object[] { "db" } })));
        }

        [Fact]
        public async Task AGoPayloadGoesWholeToOneParameterOrIsSpreadOverSeveral()
        {
            Assert.Equal("web03:22:", await Run("test:server", TaskEncoder.EncodeGo("test:server", new object?[] { new object[] { "web03", 22 } })));
            Assert.Equal("9", await Run("test:add", TaskEncoder.EncodeGo("test:add", new object?[] { 4, 5 })));
        }

        [Fact]
        public async Task AGoTaskWithoutArgumentsCallsAMethodWithoutParametersWithNone()
        {
            // NewGoTask("main.NoArgs") writes a bin holding msgpack nil: the Go worker calls such a handler with nothing.
            Assert.Equal("defaulted", await Run("Delayed.Tests.TestHandlers.Calls.Defaulted", TaskEncoder.EncodeGo("Delayed.Tests.TestHandlers.Calls.Defaulted", null)));
            Assert.Equal("async done", await Run("test:async", TaskEncoder.EncodeGo("test:async", null)));
        }

        [Fact]
        public async Task AwaitsTasksAndValueTasksAndPassesTheCancellationToken()
        {
            Assert.Equal("async done", await Run("test:async", Py("test:async")));
            Assert.Equal("value 42", await Run("test:valuetask", Py("test:valuetask", new object[] { 42 })));
            using var cancel = new CancellationTokenSource();
            var hang = Run("test:hang", Py("test:hang"), cancel.Token);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hang);
        }

        [Theory]
        [InlineData("test:add", new object[] { "x", 1 }, "parameter 'a' of Calls.Add expects an integer from -2147483648 to 2147483647, but the task sent String \"x\"")]
        [InlineData("test:add", new object[] { 3000000000L, 1 }, "expects an integer from -2147483648 to 2147483647, but the task sent Int64 3000000000")]
        [InlineData("test:add", new object[] { 1, 2, 3 }, "gives 3 positional argument(s)")]
        [InlineData("test:required", new object[0], "gives no value for parameter 'value'")]
        [InlineData("test:types", new object?[] { new[] { 1 }, new[] { "x" }, null, "Someday" }, "expects one of Sunday, Monday")]
        public async Task AMismatchIsABadCallThatNamesTheParameterWhatWasSentAndWhatWasExpected(string name, object?[] args, string message)
        {
            var error = await Assert.ThrowsAsync<TaskBindingException>(() => Run(name, Py(name, args)));
            Assert.Contains(message, error.Message);
        }

        [Fact]
        public async Task ABindingErrorNamesTheTaskAsSent_AlsoWhenARegistryGivesTheHandlerAnotherName()
        {
            var handler = Handlers.Single(h => h.Name == "test:add");
            var own = await Assert.ThrowsAsync<TaskBindingException>(() => handler.InvokeAsync(new TaskContext(TaskDecoder.Decode(Py("test:add", new object[] { 1, "y" })), "q", "w")));
            Assert.StartsWith("Task 'test:add': parameter 'b' of Calls.Add", own.Message, StringComparison.Ordinal);
            // -Handler @{ 'jobs:sum' = ... } maps another name to the same method.
            var alias = await Assert.ThrowsAsync<TaskBindingException>(() => handler.InvokeAsync(new TaskContext(TaskDecoder.Decode(Py("jobs:sum", new object[] { "x", 1 })), "q", "w")));
            Assert.StartsWith("Task 'jobs:sum': parameter 'a' of Calls.Add", alias.Message, StringComparison.Ordinal);
        }

        [Fact]
        public async Task UnknownNamedParametersAndUnknownMapKeysAreBadCalls()
        {
            var unknown = await Assert.ThrowsAsync<TaskBindingException>(() => Run("test:add", Py("test:add", new object[] { 1 }, new() { ["c"] = 1 })));
            Assert.Contains("'c'", unknown.Message);
            var key = await Assert.ThrowsAsync<TaskBindingException>(() => Run("test:server", Py("test:server", new object[] { new Dictionary<string, object> { ["nope"] = 1 } })));
            Assert.Contains("no settable property 'nope'", key.Message);
        }

        [Fact]
        public async Task AHandlersOwnExceptionIsAFailureNotABadCall()
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Run("test:fail", Py("test:fail")));
            Assert.Equal("handler failed", error.Message);
        }
    }
}

namespace Delayed.Tests.TestHandlers
{
    /// <summary>The test assembly's own attribute: any attribute of this name marks a handler.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class DelayedHandlerAttribute : Attribute
    {
        public DelayedHandlerAttribute() { }
        public DelayedHandlerAttribute(string name) => Name = name;
        public string? Name { get; set; }
    }

    public sealed class Server
    {
        public string Name { get; set; } = "";
        public int Port { get; set; }
        public List<string> Tags { get; set; } = new();
    }

    public sealed record Endpoint(string Host, int Port = 1);

    public static class Calls
    {
        public static object? Last;

        [DelayedHandler("test:add")]
        public static void Add(int a, int b = 10) => Last = (a + b).ToString();

        [DelayedHandler]
        public static void Defaulted() => Last = "defaulted";

        [DelayedHandler("test:required")]
        public static void Required(string value) => Last = value;

        [DelayedHandler("test:types")]
        public static void Types(int[] numbers, List<string> words, Dictionary<string, int>? map, DayOfWeek day, DateTime when = default, int? maybe = null, byte[]? bytes = null, double ratio = 0) =>
            Last = $"{string.Join(",", numbers)}|{string.Join(",", words)}|{string.Join(",", (map ?? new()).Select(p => p.Key + "=" + p.Value))}|{day}|{when:O}|{(maybe?.ToString() ?? "null")}|{string.Join(",", bytes ?? Array.Empty<byte>())}|{ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

        [DelayedHandler("test:server")]
        public static void Patch(Server server) => Last = $"{server.Name}:{server.Port}:{string.Join(",", server.Tags)}";

        [DelayedHandler("test:record")]
        public static void Connect(Endpoint endpoint) => Last = $"{endpoint.Host}:{endpoint.Port}";

        [DelayedHandler("test:async")]
        public static async Task Later()
        {
            await Task.Yield();
            Last = "async done";
        }

        [DelayedHandler("test:valuetask")]
        public static ValueTask<int> Value(int x)
        {
            Last = "value " + x;
            return new ValueTask<int>(x);
        }

        [DelayedHandler("test:hang")]
        public static Task Hang(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);

        [DelayedHandler("test:fail")]
        public static void Fail() => throw new InvalidOperationException("handler failed");

        public static void NotAHandler() => Last = "must never run";

        [DelayedHandler("test:hidden")]
        internal static void Hidden() => Last = "internal methods are not handlers";
    }
}
