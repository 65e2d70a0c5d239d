# The web dashboard in a real browser: Debian's chromium, headless, driven by Selenium WebDriver through chromium-driver.
# Screenshots of the pages go to out/screenshots for a person to look at.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $password = 'dashboard-' + [Guid]::NewGuid().ToString('N')
    $redis = Start-TestRedis -Password $password
    $configuration = "$($redis.Configuration),password=$password"
    $cache = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    Add-Type -Path (Join-Path $cache 'selenium.webdriver/4.52.0/lib/net8.0/Selenium.WebDriver.dll')
    $screenshots = New-Item (Join-Path (Split-Path (Split-Path $env:DELAYED_MODULE)) 'screenshots') -ItemType Directory -Force

    function Get-FreePort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
    }
    function Save-Screenshot([string] $Name) {
        $browser.GetScreenshot().SaveAsFile((Join-Path $screenshots "$Name.png"))
    }
    # The text of a cell of the queue's row in the overview.
    function Get-Cell([string] $Queue, [string] $Field) {
        $browser.FindElement([OpenQA.Selenium.By]::CssSelector("tr[data-queue='$Queue'] td[data-field='$Field']")).Text
    }

    # A queue with three waiting tasks, one scheduled, and one failed whose name and error are HTML.
    $queue = New-DelayedQueue (New-QueueName) -Redis $configuration -DequeueTimeout '00:00:00.1'
    $evil = '<script>alert(1)</script>'
    Add-DelayedTask $queue $evil '<img src=x onerror=alert(2)>'
    Start-DelayedWorker $queue -Handler @{ $evil = { param($x) throw "boom <b>$x</b>" } } -StopWhenEmpty -ErrorAction Ignore | Out-Null
    1..3 | ForEach-Object { Add-DelayedTask $queue 'Restart-Site' "web0$_" }
    Add-DelayedTask $queue 'Later' -Delay (New-TimeSpan -Hours 1)

    $port = Get-FreePort
    $dashboard = Start-DelayedDashboard $queue -Port $port -AllowActions -AsJob -SampleInterval '00:00:01'
    $base = "http://127.0.0.1:$port"
    Wait-Until { try { (Invoke-WebRequest "$base/" -UseBasicParsing).StatusCode -eq 200 } catch { $false } } 'the dashboard to answer'

    $options = [OpenQA.Selenium.Chrome.ChromeOptions]::new()
    $options.BinaryLocation = (Get-Command chromium).Source
    $options.AddArguments('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1280,1600')
    $service = [OpenQA.Selenium.Chrome.ChromeDriverService]::CreateDefaultService((Split-Path (Get-Command chromedriver).Source), 'chromedriver')
    $service.HideCommandPromptWindow = $true
    $browser = [OpenQA.Selenium.Chrome.ChromeDriver]::new($service, $options)
}
AfterAll {
    if ($browser) { $browser.Quit() }
    if ($dashboard) { $dashboard | Stop-Job; $dashboard | Remove-Job }
    Stop-TestRedis $redis
}

Describe 'Start-DelayedDashboard in a browser' {
    It 'shows the right counts for a queue the test filled' {
        $browser.Navigate().GoToUrl("$base/?refresh=0")
        Get-Cell $queue.Name 'length' | Should -Be '3'
        Get-Cell $queue.Name 'scheduled' | Should -Be '1'
        Get-Cell $queue.Name 'failed' | Should -Be '1'
        Get-Cell $queue.Name 'running' | Should -Be '0'
        $browser.FindElement([OpenQA.Selenium.By]::CssSelector('svg.chart')) | Should -Not -BeNullOrEmpty
        Save-Screenshot 'dashboard-overview'
    }

    It 'shows a failed task''s error, and a task whose name is a script tag as text, running nothing of it' {
        $browser.Navigate().GoToUrl("$base/queues/$($queue.Name)?refresh=0")
        $failed = $browser.FindElement([OpenQA.Selenium.By]::Id('failed'))
        $failed.Text | Should -BeLike "*$evil*"
        $failed.Text | Should -BeLike '*boom <b><img src=x onerror=alert(2)></b>*'
        $failed.FindElements([OpenQA.Selenium.By]::TagName('img')).Count | Should -Be 0 -Because 'task data is text, not markup'
        { $browser.SwitchTo().Alert() } | Should -Throw -Because 'no script of the task ran'
        $browser.PageSource | Should -Not -Match ([regex]::Escape($password)) -Because 'no page shows the Redis password'
        Save-Screenshot 'dashboard-queue'
    }

    It 'restores a failed task from the page, after a confirmation' {
        $browser.Navigate().GoToUrl("$base/queues/$($queue.Name)?refresh=0")
        $browser.FindElement([OpenQA.Selenium.By]::CssSelector("#failed form[action$='/failed/restore'] button")).Click()
        $alert = $browser.SwitchTo().Alert()
        $alert.Text | Should -BeLike "Put $evil back on queue*"
        $alert.Accept()
        Wait-Until { $browser.FindElements([OpenQA.Selenium.By]::CssSelector('p#failed.none')).Count -eq 1 } 'the page without the failed task'
        $info = Get-DelayedQueue $queue
        $info.Failed | Should -Be 0
        $info.Length | Should -Be 4
        Save-Screenshot 'dashboard-after-restore'
    }

    It 'charts the tasks started and failed while it runs' {
        # Each task held a while, so that the dashboard's looks (every second) see the worker's claims.
        Start-DelayedWorker $queue -StopWhenEmpty -ErrorAction Ignore -Handler @{
            'Restart-Site' = { param($s) Start-Sleep -Milliseconds 600 }
            $evil = { param($x) Start-Sleep -Milliseconds 600; throw "boom again" }
        } | Out-Null
        # The highest point of a line: its least y (the chart's baseline is at y 142).
        function Get-Peak([string] $Line) {
            $browser.Navigate().GoToUrl("$base/?refresh=0")
            $points = $browser.FindElement([OpenQA.Selenium.By]::CssSelector("svg.chart polyline.$Line")).GetAttribute('points') -split ' '
            ($points | ForEach-Object { [double]($_ -split ',')[1] } | Measure-Object -Minimum).Minimum
        }
        Wait-Until { (Get-Peak started) -lt 142 } 'tasks started on the chart'
        Wait-Until { (Get-Peak failed) -lt 142 } 'a failure on the chart'
        Save-Screenshot 'dashboard-chart'
    }

    It 'does nothing when the confirmation is dismissed' {
        $browser.Navigate().GoToUrl("$base/queues/$($queue.Name)?refresh=0")
        $browser.FindElement([OpenQA.Selenium.By]::CssSelector("#state form[action$='/pause'] button")).Click()
        $browser.SwitchTo().Alert().Dismiss()
        (Get-DelayedQueue $queue).Paused | Should -BeFalse
    }

    It 'refuses an action without the run''s secret, from another origin, or on GET, and changes nothing' {
        $page = (Invoke-WebRequest "$base/queues/$($queue.Name)" -UseBasicParsing).Content
        $secret = [regex]::Match($page, 'name="secret" value="([0-9a-f]+)"').Groups[1].Value
        $secret.Length | Should -Be 64
        $pause = "$base/queues/$($queue.Name)/pause"
        (Invoke-WebRequest $pause -Method Post -Body @{ secret = 'guess' } -UseBasicParsing -SkipHttpErrorCheck).StatusCode | Should -Be 403
        (Invoke-WebRequest $pause -Method Post -Body @{} -UseBasicParsing -SkipHttpErrorCheck).StatusCode | Should -Be 403
        (Invoke-WebRequest $pause -Method Post -Body @{ secret = $secret } -Headers @{ Origin = 'http://evil.example' } -UseBasicParsing -SkipHttpErrorCheck).StatusCode | Should -Be 403
        (Invoke-WebRequest $pause -UseBasicParsing -SkipHttpErrorCheck).StatusCode | Should -Be 405
        (Get-DelayedQueue $queue).Paused | Should -BeFalse
        # The secret from this run's page, from this origin: done.
        $client = [System.Net.Http.HttpClient]::new([System.Net.Http.HttpClientHandler]@{ AllowAutoRedirect = $false })
        try {
            $request = [System.Net.Http.HttpRequestMessage]::new('POST', $pause)
            $request.Headers.Add('Origin', $base)
            $form = [System.Collections.Generic.Dictionary[string, string]]::new()
            $form['secret'] = $secret
            $request.Content = [System.Net.Http.FormUrlEncodedContent]::new($form)
            $response = $client.SendAsync($request).GetAwaiter().GetResult()
            [int]$response.StatusCode | Should -Be 303
            $response.Headers.Location.OriginalString | Should -Be "/queues/$($queue.Name)"
        } finally { $client.Dispose() }
        (Get-DelayedQueue $queue).Paused | Should -BeTrue
        Resume-DelayedQueue $queue
    }

    It 'removes one failed task, retries all the others, pauses and resumes the queue, each after a confirmation' {
        # Two more failures beside the one the chart's worker left.
        Add-DelayedTask $queue 'Fail-Me' 'one'
        Add-DelayedTask $queue 'Fail-Me' 'two'
        Start-DelayedWorker $queue -StopWhenEmpty -ErrorAction Ignore -Handler @{ 'Fail-Me' = { param($x) throw "failed $x" } } | Out-Null
        $before = Get-DelayedQueue $queue
        $before.Failed | Should -Be 3
        function Confirm-Action([string] $Selector, [string] $Expected) {
            $browser.Navigate().GoToUrl("$base/queues/$($queue.Name)?refresh=0")
            $browser.FindElement([OpenQA.Selenium.By]::CssSelector($Selector)).Click()
            $alert = $browser.SwitchTo().Alert()
            $alert.Text | Should -BeLike $Expected
            $alert.Accept()
        }

        Confirm-Action "#failed form[action$='/failed/remove'] button" 'Delete failed task * for good?'
        Wait-Until { (Get-DelayedQueue $queue).Failed -eq 2 } 'the failed task removed'
        (Get-DelayedQueue $queue).Length | Should -Be $before.Length -Because 'a removed task is not enqueued'

        Confirm-Action "form[action$='/failed/retry-all'] button" "Put all 2 failed tasks of $($queue.Name) back on the queue?"
        Wait-Until { (Get-DelayedQueue $queue).Failed -eq 0 } 'every failed task back on the queue'
        (Get-DelayedQueue $queue).Length | Should -Be ($before.Length + 2)

        Confirm-Action "#state form[action$='/pause'] button" '*'
        Wait-Until { (Get-DelayedQueue $queue).Paused } 'the queue paused from the page'
        Save-Screenshot 'dashboard-paused'
        Confirm-Action "#state form[action$='/resume'] button" '*'
        Wait-Until { -not (Get-DelayedQueue $queue).Paused } 'the queue resumed from the page'
    }

    It 'answers only to loopback host names when it listens on loopback (no DNS rebinding)' {
        $response = Invoke-WebRequest "$base/" -Headers @{ Host = "evil.example:$port" } -UseBasicParsing -SkipHttpErrorCheck
        $response.StatusCode | Should -BeGreaterOrEqual 400
        $response.Content | Should -Not -Match $queue.Name
        (Invoke-WebRequest "http://localhost:$port/" -UseBasicParsing).Content | Should -Match $queue.Name
    }

    It 'is read-only without -AllowActions: no buttons, and a post is refused' {
        $readOnlyPort = Get-FreePort
        $readOnly = Start-DelayedDashboard $queue -Port $readOnlyPort -AsJob
        try {
            Wait-Until { try { (Invoke-WebRequest "http://127.0.0.1:$readOnlyPort/" -UseBasicParsing).StatusCode -eq 200 } catch { $false } } 'the read-only dashboard'
            $browser.Navigate().GoToUrl("http://127.0.0.1:$readOnlyPort/queues/$($queue.Name)?refresh=0")
            $browser.FindElements([OpenQA.Selenium.By]::TagName('form')).Count | Should -Be 0
            (Invoke-WebRequest "http://127.0.0.1:$readOnlyPort/queues/$($queue.Name)/pause" -Method Post -Body @{ secret = 'x' } -UseBasicParsing -SkipHttpErrorCheck).StatusCode | Should -Be 403
        } finally { $readOnly | Stop-Job; $readOnly | Remove-Job }
    }

    It 'says clearly when its port is taken' {
        { Start-DelayedDashboard $queue -Port $port } | Should -Throw "*Cannot serve the dashboard at http://127.0.0.1:$port/*Choose another -Port*"
    }
}
